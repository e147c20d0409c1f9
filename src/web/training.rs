//! Training: the options table and its check, the trainer made, stepped and evaluated, its schedule, fusing it, saving and continuing it, its training-form export.

use super::*;

#[wasm_bindgen]
impl Session {
    /// The options tables (Rust's `TrainOptions::table()` and `StudyOptions::form_table()`).
    #[wasm_bindgen(js_name = optionsTable)]
    pub fn options_table() -> Result<Ts<OptionsTables>, JsError> {
        js(&OptionsTables { train: TrainOptions::table(), study: StudyOptions::form_table() })
    }

    /// A new model and optimizer for the loaded dataset.
    #[wasm_bindgen(js_name = createTrainer)]
    pub fn create_trainer(
        &mut self,
        #[wasm_bindgen(unchecked_param_type = "Partial<TrainOptions>")] options: JsValue,
    ) -> Result<Ts<ModelInfo>, JsError> {
        let options: TrainOptions = from_js(options, "options")?;
        self.install(|device, data| Trainer::new(device, data, options))
    }

    /// Which option is out of range for the loaded data and why (`{field, message}`), or null:
    /// the form shows it beside the field.
    #[wasm_bindgen(js_name = checkOptions, unchecked_return_type = "OptionError | null")]
    pub fn check_options(
        &self,
        #[wasm_bindgen(unchecked_param_type = "Partial<TrainOptions>")] options: JsValue,
    ) -> Result<JsValue, JsError> {
        let options: TrainOptions = from_js(options, "options")?;
        match options.check(self.data()?) {
            Ok(_) => Ok(JsValue::NULL),
            Err(e) => plain(&e),
        }
    }

    /// New learning rate, schedule, optimizer, epochs or batch size, keeping the weights:
    /// answers the total number of steps.
    #[wasm_bindgen(js_name = setOptions)]
    pub fn set_options(
        &mut self,
        #[wasm_bindgen(unchecked_param_type = "Partial<TrainOptions>")] options: JsValue,
    ) -> Result<usize, JsError> {
        let options: TrainOptions = from_js(options, "options")?;
        let trainer = self.trainer_mut()?;
        trainer.set_options(options).map_err(err)?;
        Ok(trainer.total_steps())
    }

    /// One training step: the step report. A classifier fused from the weights is dropped.
    pub async fn step(&mut self) -> Result<Ts<StepReport>, JsError> {
        self.drop_fused();
        js(&self.trainer_mut()?.step().await.map_err(err)?)
    }

    /// Test accuracy on up to `limit` images (all when absent); null without test images.
    #[wasm_bindgen(unchecked_return_type = "number | null")]
    pub async fn evaluate(&self, limit: Option<usize>) -> Result<JsValue, JsError> {
        plain(&self.trainer()?.evaluate(limit).await.map_err(err)?)
    }

    /// As `evaluate`, for the moving average of the weights; null without one.
    #[wasm_bindgen(js_name = evaluateEma, unchecked_return_type = "number | null")]
    pub async fn evaluate_ema(&self, limit: Option<usize>) -> Result<JsValue, JsError> {
        plain(&self.trainer()?.evaluate_ema(limit).await.map_err(err)?)
    }

    /// The learned series activation of a layer's channel (see
    /// [`Trainer::activation_response`]).
    pub async fn probe(
        &self,
        layer: usize,
        channel: usize,
        inputs: Vec<f32>,
    ) -> Result<Ts<ActivationResponse>, JsError> {
        let (curve, kernel) = self.trainer()?.activation_response(layer, channel, &inputs).await.map_err(err)?;
        js(&ActivationResponse { curve, kernel })
    }

    /// The trained net, the moving average of its weights (`ema`) or the fused form (`fused`)
    /// on the whole test set, kept until the weights change.
    pub async fn evaluation(&mut self, fused: bool, ema: Option<bool>) -> Result<Ts<Evaluation>, JsError> {
        let model = evaluated(fused, ema);
        if let Some(e) = self.evaluations.iter().find(|e| e.model == model) {
            return js(e);
        }
        let trainer = self.trainer()?;
        let evaluation = match (model, self.classifier_from_trainer) {
            (Evaluated::Trained, _) => trainer.evaluation(None).await,
            (Evaluated::Ema, _) => trainer.evaluation_ema().await,
            (Evaluated::Fused, true) => trainer.evaluation(self.classifier.as_ref()).await,
            (Evaluated::Fused, false) => return Err(err("no fused form of the trained net: fuse it first")),
        }
        .map_err(err)?;
        let answer = js(&evaluation)?;
        self.evaluations.push(evaluation);
        Ok(answer)
    }

    /// The test images of one cell of the last evaluation's confusion matrix (true class
    /// `label`, answered `predicted`), most confident first.
    #[wasm_bindgen(js_name = evaluationCell, unchecked_return_type = "Scored[]")]
    pub fn evaluation_cell(
        &self,
        fused: bool,
        label: usize,
        predicted: usize,
        limit: usize,
        ema: Option<bool>,
    ) -> Result<JsValue, JsError> {
        let model = evaluated(fused, ema);
        let e = self.evaluations.iter().find(|e| e.model == model).ok_or_else(|| err("evaluate the net first"))?;
        plain(&e.cell(label, predicted, limit).map_err(err)?)
    }

    /// The lambda and learning-rate schedules these options give on the loaded dataset, at most
    /// about `max_points` points (x in fractional epochs); null for options that do not pass
    /// the check (a link's `epochs=100000000` samples nothing).
    #[wasm_bindgen(unchecked_return_type = "Curve | null")]
    pub fn schedule(
        &self,
        #[wasm_bindgen(unchecked_param_type = "Partial<TrainOptions>")] options: JsValue,
        max_points: usize,
    ) -> Result<JsValue, JsError> {
        let options: TrainOptions = from_js(options, "options")?;
        let data = self.data()?;
        if options.check(data).is_err() {
            return Ok(JsValue::NULL);
        }
        let steps_per_epoch = data.train.len().div_ceil(options.batch_size);
        plain(&options.lambda_schedule().sample_with(&options.learning_rates(), steps_per_epoch, max_points))
    }

    /// Fuses the trained net, or the moving average of its weights (`weights`: "trained" or
    /// "ema"; absent: the average when there is one), refused below lambda 1 with the reason,
    /// and compares both forms on up to `limit` test images. The fused net
    /// becomes the classifier; its card says which weights it holds.
    pub async fn fuse(&mut self, limit: usize, weights: Option<String>) -> Result<Ts<FuseReport>, JsError> {
        let trainer = self.trainer()?;
        let weights = weights_named(trainer, weights)?;
        let (classifier, report) = trainer.fuse_weights(weights, limit).await.map_err(err)?;
        self.set_classifier(classifier, true);
        js(&report)
    }

    /// The weights and position in training as one safetensors file (for IndexedDB).
    pub async fn snapshot(&self) -> Result<Vec<u8>, JsError> {
        self.trainer()?.snapshot().await.map_err(err)
    }

    /// Continues the run a `snapshot` saved, on the loaded dataset: answers as `createTrainer`.
    pub fn restore(&mut self, bytes: Vec<u8>) -> Result<Ts<ModelInfo>, JsError> {
        self.install(|device, data| Trainer::restore(device, data, bytes))
    }

    /// The trained net (or its moving average: `weights` as for `fuse`) in the authors'
    /// training form: official key names, BN step counters, the card (which says which
    /// weights). It loads with `strict=True` into their PyTorch `VanillaNet`.
    #[wasm_bindgen(js_name = exportTraining)]
    pub async fn export_training(&self, weights: Option<String>) -> Result<Vec<u8>, JsError> {
        let trainer = self.trainer()?;
        trainer.export_training_of(weights_named(trainer, weights)?).await.map_err(err)
    }

    /// Ends deep training with the current epoch (see `Trainer::finish_annealing`): answers the
    /// options now in force, or null when lambda is 1 already.
    #[wasm_bindgen(js_name = finishAnnealing, unchecked_return_type = "TrainOptions | null")]
    pub fn finish_annealing(&mut self) -> Result<JsValue, JsError> {
        let trainer = self.trainer_mut()?;
        if trainer.finish_annealing().map_err(err)? { plain(trainer.options()) } else { Ok(JsValue::NULL) }
    }
}

/// The evaluation the page asks for: the fused form, the moving average, or the trained net.
fn evaluated(fused: bool, ema: Option<bool>) -> Evaluated {
    match (fused, ema.unwrap_or(false)) {
        (true, _) => Evaluated::Fused,
        (false, true) => Evaluated::Ema,
        (false, false) => Evaluated::Trained,
    }
}

/// The weights the page names ("trained", "ema"), the trainer's default when none.
fn weights_named(trainer: &Trainer, name: Option<String>) -> Result<Weights, JsError> {
    match name.as_deref() {
        None => Ok(trainer.default_weights()),
        Some("trained") => Ok(Weights::Trained),
        Some("ema") if trainer.ema().is_some() => Ok(Weights::Ema),
        Some("ema") => Err(err("there is no moving average of the weights: its decay is 0")),
        Some(other) => Err(err(format!("unknown weights '{other}': use trained or ema"))),
    }
}
