//! Benchmarks on the session's device (see `bench`), and a named model with random weights made the classifier for them.

use super::*;

#[wasm_bindgen]
impl Session {
    /// Inference latency of a named model with random weights (see `bench::latency`).
    #[wasm_bindgen(js_name = benchLatency)]
    pub async fn bench_latency(
        &self,
        model: String,
        size: usize,
        batch: usize,
        fused: bool,
        runs: usize,
        warmup: usize,
    ) -> Result<Ts<crate::bench::Latency>, JsError> {
        let config = VanillaNetConfig::named(&model).map_err(err)?;
        let case = crate::bench::Case { name: &model, config: &config, size, batch, fused };
        js(&crate::bench::latency(case, runs, warmup, &self.device).await.map_err(err)?)
    }

    /// Where a fused inference's time goes (see `bench::breakdown`).
    #[wasm_bindgen(js_name = benchBreakdown)]
    pub async fn bench_breakdown(
        &self,
        model: String,
        size: usize,
        batch: usize,
        runs: usize,
        warmup: usize,
    ) -> Result<Ts<crate::bench::Breakdown>, JsError> {
        let config = VanillaNetConfig::named(&model).map_err(err)?;
        let case = crate::bench::Case { name: &model, config: &config, size, batch, fused: true };
        js(&crate::bench::breakdown(case, runs, warmup, &self.device).await.map_err(err)?)
    }

    /// Training images per second of a preset on random images (see `bench::training`).
    #[wasm_bindgen(js_name = benchTraining)]
    pub async fn bench_training(
        &self,
        preset: String,
        channels: usize,
        size: usize,
        batch: usize,
        steps: usize,
    ) -> Result<Ts<crate::bench::Throughput>, JsError> {
        js(&crate::bench::training(&preset, channels, size, batch, steps, &self.device).await.map_err(err)?)
    }

    /// Makes a named model with random weights, fused, the classifier (ImageNet preprocessing
    /// at `size`): for benchmarks against other runtimes on the same weights.
    #[wasm_bindgen(js_name = benchClassifier)]
    pub fn bench_classifier(&mut self, model: String, size: usize) -> Result<Ts<ClassifierInfo>, JsError> {
        let classifier = Classifier::random(&model, size, &self.device).map_err(err)?;
        let info = js(&ClassifierInfo::of(&classifier, false).map_err(err)?)?;
        self.set_classifier(classifier, false);
        Ok(info)
    }

    /// Latency of the classifier's fused net (see `bench::classifier_latency`).
    #[wasm_bindgen(js_name = benchClassifierLatency)]
    pub async fn bench_classifier_latency(
        &self,
        batch: usize,
        runs: usize,
        warmup: usize,
    ) -> Result<Ts<crate::bench::Latency>, JsError> {
        let c = self.held_classifier()?;
        js(&crate::bench::classifier_latency(c, batch, runs, warmup, &self.device).await.map_err(err)?)
    }
}
