//! The ablation studies: the studies there are, one run step by step, its report and CSV.

use super::*;

#[wasm_bindgen]
impl Session {
    /// The studies there are.
    #[wasm_bindgen(unchecked_return_type = "StudyDescription[]")]
    pub fn studies() -> Result<JsValue, JsError> {
        plain(&Study::ALL.map(StudyDescription::of))
    }

    /// Starts an ablation study on the loaded data, or continues `saved` (a report it gave
    /// before): answers its report so far (`finished` says whether every run is done).
    #[wasm_bindgen(js_name = studyRun)]
    pub fn study_run(
        &mut self,
        #[wasm_bindgen(unchecked_param_type = "Partial<StudyOptions>")] options: JsValue,
        #[wasm_bindgen(unchecked_param_type = "StudyReport | null | undefined")] saved: JsValue,
    ) -> Result<Ts<StudyReport>, JsError> {
        let options: StudyOptions = from_js(options, "study options")?;
        let saved: Option<StudyReport> =
            if saved.is_undefined() || saved.is_null() { None } else { Some(from_js(saved, "saved study")?) };
        let study = StudyRun::new(&self.device, self.data()?.clone(), options)
            .and_then(|s| match saved {
                Some(saved) => s.resume(saved),
                None => Ok(s),
            })
            .map_err(err)?;
        let report = study.report().map_err(err)?;
        self.study = Some(study);
        js(&report)
    }

    /// One training step of the study (the step ending a run also fuses and evaluates it).
    #[wasm_bindgen(js_name = studyStep)]
    pub async fn study_step(&mut self) -> Result<Ts<StudyProgress>, JsError> {
        let study = self.study.as_mut().ok_or_else(|| err("no study: start one first"))?;
        js(&study.step().await.map_err(err)?)
    }

    /// The study's report: arms, every finished run, the summary per arm.
    #[wasm_bindgen(js_name = studyReport)]
    pub fn study_report(&self) -> Result<Ts<StudyReport>, JsError> {
        js(&self.study.as_ref().ok_or_else(|| err("no study"))?.report().map_err(err)?)
    }

    /// A report (a live or a saved one) as CSV, one row per arm.
    #[wasm_bindgen(js_name = studyCsv)]
    pub fn study_csv(#[wasm_bindgen(unchecked_param_type = "StudyReport")] report: JsValue) -> Result<String, JsError> {
        let report: StudyReport = from_js(report, "report")?;
        Ok(report.csv())
    }

    #[wasm_bindgen(js_name = studyDiscard)]
    pub fn study_discard(&mut self) {
        self.study = None;
    }
}
