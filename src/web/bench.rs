//! The benchmarks' calls, on the session's device (see `bench`), and a named model with random
//! weights made the classifier for them.

use tsify::Ts;
use wasm_bindgen::prelude::*;

use super::{Session, err, js};
use crate::bench::{Breakdown, Case, Latency, Throughput};
use crate::model::config::VanillaNetConfig;
use crate::session::ClassifierInfo;

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
    ) -> Result<Ts<Latency>, JsError> {
        let config = VanillaNetConfig::named(&model).map_err(err)?;
        let case = Case { name: &model, config: &config, size, batch, fused };
        js(&crate::bench::latency(case, runs, warmup, self.inner.device()).await.map_err(err)?)
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
    ) -> Result<Ts<Breakdown>, JsError> {
        let config = VanillaNetConfig::named(&model).map_err(err)?;
        let case = Case { name: &model, config: &config, size, batch, fused: true };
        js(&crate::bench::breakdown(case, runs, warmup, self.inner.device()).await.map_err(err)?)
    }

    /// Training images per second of a preset on random images (see `bench::training`).
    #[wasm_bindgen(js_name = benchTraining)]
    pub async fn bench_training(&self, preset: String, batch: usize, steps: usize) -> Result<Ts<Throughput>, JsError> {
        js(&crate::bench::training(&preset, batch, steps, self.inner.device()).await.map_err(err)?)
    }

    /// Makes a named model with random weights, fused, the classifier (ImageNet preprocessing
    /// at `size`): for benchmarks against other runtimes on the same weights.
    #[wasm_bindgen(js_name = benchClassifier)]
    pub fn bench_classifier(&mut self, model: String, size: usize) -> Result<Ts<ClassifierInfo>, JsError> {
        js(&self.inner.random_classifier(&model, size).map_err(err)?)
    }

    /// Latency of the classifier's fused net (see `bench::classifier_latency`).
    #[wasm_bindgen(js_name = benchClassifierLatency)]
    pub async fn bench_classifier_latency(
        &self,
        batch: usize,
        runs: usize,
        warmup: usize,
    ) -> Result<Ts<Latency>, JsError> {
        let c = self.inner.classifier().map_err(err)?;
        js(&crate::bench::classifier_latency(c, batch, runs, warmup, self.inner.device()).await.map_err(err)?)
    }
}
