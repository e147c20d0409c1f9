// Every user-facing string of the page, in English, by part of the page. i18n/ko.js has the
// same keys (a test checks it, and that no key is in two parts). Entries that are functions
// take one object of named values, already formatted.
import page from "./en/page.js";
import experiments from "./en/experiments.js";

export default { ...page, ...experiments };
