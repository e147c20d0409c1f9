//! The trainer's calls: the options tables and the check, the trainer made and given options,
//! the loop's controls (train, pause, resume, one step, advance), the test set's verdict, the
//! schedule, fusing, saving and continuing, the training-form export.

use tsify::Ts;
use wasm_bindgen::prelude::*;

use super::{Session, err, from_js, js, plain};
use crate::model::Weights;
use crate::session::{ModelInfo, OptionsTables, Restored, WhenAnnealed};
use crate::train::evaluation::{Evaluated, Evaluation};
use crate::train::fuse_report::FuseReport;
use crate::train::options::TrainOptions;
use crate::train::trainer::StepReport;

#[wasm_bindgen]
impl Session {
    /// The options tables (Rust's `TrainOptions::table()` and `StudyOptions::form_table()`)
    /// and the limits and defaults the page uses.
    #[wasm_bindgen(js_name = optionsTable)]
    pub fn options_table() -> Result<Ts<OptionsTables>, JsError> {
        js(&OptionsTables::get())
    }

    /// A new model and optimizer for the loaded dataset (told as a `model` event too).
    #[wasm_bindgen(js_name = createTrainer)]
    pub fn create_trainer(
        &mut self,
        #[wasm_bindgen(unchecked_param_type = "Partial<TrainOptions>")] options: JsValue,
    ) -> Result<Ts<ModelInfo>, JsError> {
        js(&self.inner.create_trainer(from_js(options, "options")?).map_err(err)?)
    }

    /// Which option is out of range for the loaded data and why (`{field, message}`), or null.
    #[wasm_bindgen(js_name = checkOptions, unchecked_return_type = "OptionError | null")]
    pub fn check_options(
        &self,
        #[wasm_bindgen(unchecked_param_type = "Partial<TrainOptions>")] options: JsValue,
    ) -> Result<JsValue, JsError> {
        let options: TrainOptions = from_js(options, "options")?;
        plain(&self.inner.check_options(&options).map_err(err)?)
    }

    /// New options keeping the weights: answers the total number of steps.
    #[wasm_bindgen(js_name = setOptions)]
    pub fn set_options(
        &mut self,
        #[wasm_bindgen(unchecked_param_type = "Partial<TrainOptions>")] options: JsValue,
    ) -> Result<usize, JsError> {
        self.inner.set_options(from_js(options, "options")?).map_err(err)
    }

    /// Trains with these options (a trainer is made, or given them): the loop runs it.
    pub fn train(
        &mut self,
        #[wasm_bindgen(unchecked_param_type = "Partial<TrainOptions>")] options: JsValue,
        eval_every: Option<usize>,
        eval_limit: Option<usize>,
    ) -> Result<(), JsError> {
        self.inner.train(from_js(options, "options")?, eval_every, eval_limit).map_err(err)
    }

    pub fn pause(&mut self) {
        self.inner.pause();
    }

    pub fn resume(&mut self) -> Result<(), JsError> {
        self.inner.resume().map_err(err)
    }

    /// One training step while paused (a trainer with `options` is made if there is none).
    pub async fn step(
        &mut self,
        #[wasm_bindgen(unchecked_param_type = "Partial<TrainOptions>")] options: JsValue,
    ) -> Result<Ts<StepReport>, JsError> {
        js(&self.inner.step_once(from_js(options, "options")?).await.map_err(err)?)
    }

    /// True when a job runs and no loop steps it yet: the caller starts one.
    #[wasm_bindgen(js_name = claimLoop)]
    pub fn claim_loop(&mut self) -> bool {
        self.inner.claim_loop()
    }

    /// One step of the job that runs; false when none does (the loop is over).
    pub async fn advance(&mut self) -> bool {
        self.inner.advance().await
    }

    /// The loop that claimed the session is over, however it ended.
    #[wasm_bindgen(js_name = endLoop)]
    pub fn end_loop(&mut self) {
        self.inner.end_loop()
    }

    /// Ends deep training with the current epoch and trains until lambda is 1, then pauses and,
    /// with `fuse`, fuses `weights` ("trained" or "ema"; absent: the default). Answers the
    /// options now in force, or null when lambda is 1 already.
    #[wasm_bindgen(js_name = finishAnnealing, unchecked_return_type = "TrainOptions | null")]
    pub fn finish_annealing(
        &mut self,
        fuse: bool,
        #[wasm_bindgen(unchecked_param_type = "Weights | undefined")] weights: JsValue,
    ) -> Result<JsValue, JsError> {
        let weights: Option<Weights> = from_js(weights, "weights")?;
        let then = if fuse { WhenAnnealed::Fuse(weights) } else { WhenAnnealed::Pause };
        plain(&self.inner.finish_annealing(then).map_err(err)?)
    }

    /// The trained net, the moving average of its weights or the fused form on the whole test
    /// set, kept until the weights change.
    pub async fn evaluation(
        &mut self,
        #[wasm_bindgen(unchecked_param_type = "Evaluated")] model: JsValue,
    ) -> Result<Ts<Evaluation>, JsError> {
        let model: Evaluated = from_js(model, "model")?;
        js(&self.inner.evaluation(model).await.map_err(err)?)
    }

    /// The test images of one cell of a kept evaluation's confusion matrix, most confident first.
    #[wasm_bindgen(js_name = evaluationCell, unchecked_return_type = "Scored[]")]
    pub fn evaluation_cell(
        &self,
        #[wasm_bindgen(unchecked_param_type = "Evaluated")] model: JsValue,
        label: usize,
        predicted: usize,
        limit: usize,
    ) -> Result<JsValue, JsError> {
        let model: Evaluated = from_js(model, "model")?;
        plain(&self.inner.evaluation_cell(model, label, predicted, limit).map_err(err)?)
    }

    /// The lambda and learning-rate schedules these options give on the loaded dataset; null
    /// for options that do not pass the check.
    #[wasm_bindgen(unchecked_return_type = "Curve | null")]
    pub fn schedule(
        &self,
        #[wasm_bindgen(unchecked_param_type = "Partial<TrainOptions>")] options: JsValue,
        max_points: usize,
    ) -> Result<JsValue, JsError> {
        let options: TrainOptions = from_js(options, "options")?;
        plain(&self.inner.schedule(&options, max_points).map_err(err)?)
    }

    /// Fuses the trained net or its moving average (`weights`; absent: the default) and
    /// compares both forms on up to `limit` test images (absent: `limits.fuseLimit`); the fused
    /// net becomes the classifier.
    pub async fn fuse(
        &mut self,
        limit: Option<usize>,
        #[wasm_bindgen(unchecked_param_type = "Weights | undefined")] weights: JsValue,
    ) -> Result<Ts<FuseReport>, JsError> {
        let weights: Option<Weights> = from_js(weights, "weights")?;
        js(&self.inner.fuse(limit, weights).await.map_err(err)?)
    }

    /// The weights and position in training as one safetensors file (for IndexedDB), and
    /// where training stands; null without a trainer.
    #[wasm_bindgen(unchecked_return_type = "{ bytes: Uint8Array; status: Progress } | null")]
    pub async fn snapshot(&self) -> Result<JsValue, JsError> {
        if !self.inner.has_trainer() {
            return Ok(JsValue::NULL);
        }
        let (bytes, status) = self.inner.snapshot().await.map_err(err)?;
        let out = js_sys::Object::new();
        let set = |k: &str, v: &JsValue| js_sys::Reflect::set(&out, &k.into(), v);
        set("bytes", &js_sys::Uint8Array::from(&bytes[..]).into())
            .and(set("status", &plain(&status)?))
            .map_err(|_| err("cannot build the snapshot object"))?;
        Ok(out.into())
    }

    /// Continues the run a `snapshot` saved, on the loaded dataset, paused; `train_accuracy`:
    /// the moving train accuracy the page kept.
    pub async fn restore(&mut self, bytes: Vec<u8>, train_accuracy: Option<f32>) -> Result<Ts<Restored>, JsError> {
        js(&self.inner.restore(bytes, train_accuracy).await.map_err(err)?)
    }

    /// The trained net (or its moving average: `weights` as for `fuse`) in the authors'
    /// training form, which loads with `strict=True` into their PyTorch `VanillaNet`.
    #[wasm_bindgen(js_name = exportTraining)]
    pub async fn export_training(
        &self,
        #[wasm_bindgen(unchecked_param_type = "Weights | undefined")] weights: JsValue,
    ) -> Result<Vec<u8>, JsError> {
        let weights: Option<Weights> = from_js(weights, "weights")?;
        self.inner.export_training(weights).await.map_err(err)
    }
}
