//! The ablation studies' calls: the studies there are, one run (started, paused, resumed,
//! discarded), its report and CSV.

use tsify::Ts;
use wasm_bindgen::prelude::*;

use super::{Session, err, from_js, js, plain};
use crate::session::StudyDescription;
use crate::train::study::{StudyOptions, StudyReport};

#[wasm_bindgen]
impl Session {
    /// The studies there are.
    #[wasm_bindgen(unchecked_return_type = "StudyDescription[]")]
    pub fn studies() -> Result<JsValue, JsError> {
        plain(&StudyDescription::all())
    }

    /// Starts an ablation study on the loaded data, or continues `saved` (a report it gave
    /// before): answers its report so far; the loop runs it.
    #[wasm_bindgen(js_name = studyRun)]
    pub fn study_run(
        &mut self,
        #[wasm_bindgen(unchecked_param_type = "Partial<StudyOptions>")] options: JsValue,
        #[wasm_bindgen(unchecked_param_type = "StudyReport | null | undefined")] saved: JsValue,
    ) -> Result<Ts<StudyReport>, JsError> {
        let options: StudyOptions = from_js(options, "study options")?;
        let saved: Option<StudyReport> = from_js(saved, "saved study")?;
        js(&self.inner.study_run(options, saved).map_err(err)?)
    }

    #[wasm_bindgen(js_name = studyPause)]
    pub fn study_pause(&mut self) {
        self.inner.study_pause();
    }

    #[wasm_bindgen(js_name = studyResume)]
    pub fn study_resume(&mut self) -> Result<(), JsError> {
        self.inner.study_resume().map_err(err)
    }

    /// The study's report: arms, every finished run, the summary per arm.
    #[wasm_bindgen(js_name = studyReport)]
    pub fn study_report(&self) -> Result<Ts<StudyReport>, JsError> {
        js(&self.inner.study_report().map_err(err)?)
    }

    /// A report (a live or a saved one) as CSV, one row per arm.
    #[wasm_bindgen(js_name = studyCsv)]
    pub fn study_csv(#[wasm_bindgen(unchecked_param_type = "StudyReport")] report: JsValue) -> Result<String, JsError> {
        let report: StudyReport = from_js(report, "report")?;
        Ok(report.csv())
    }

    #[wasm_bindgen(js_name = studyDiscard)]
    pub fn study_discard(&mut self) {
        self.inner.study_discard();
    }
}
