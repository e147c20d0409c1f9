// 페이지의 모든 문자열, 한국어, 페이지의 부분별로. 키는 i18n/en.js와 같습니다 (테스트가 확인합니다).
import page from "./ko/page.js";
import experiments from "./ko/experiments.js";

export default { ...page, ...experiments };
