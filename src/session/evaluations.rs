//! The evaluations on the whole test set the session keeps (at most one of each net), and
//! which of them a change makes stale: a training step changes every weight, a new classifier
//! only the fused form's.

use crate::train::evaluation::{Evaluated, Evaluation};

#[derive(Default)]
pub struct Evaluations {
    kept: Vec<Evaluation>,
}

impl Evaluations {
    pub fn get(&self, model: Evaluated) -> Option<&Evaluation> {
        self.kept.iter().find(|e| e.model == model)
    }

    pub fn keep(&mut self, evaluation: Evaluation) {
        self.kept.retain(|e| e.model != evaluation.model);
        self.kept.push(evaluation);
    }

    /// Which nets are evaluated now.
    pub fn models(&self) -> Vec<Evaluated> {
        self.kept.iter().map(|e| e.model).collect()
    }

    /// The weights changed (a step, a new trainer, new data): nothing kept holds.
    pub fn weights_changed(&mut self) {
        self.kept.clear();
    }

    /// The moving average went or started afresh: its evaluation is of the one before.
    pub fn ema_changed(&mut self) {
        self.kept.retain(|e| e.model != Evaluated::Ema);
    }

    /// Another classifier: the fused form's evaluation is of the one before.
    pub fn classifier_changed(&mut self) {
        self.kept.retain(|e| e.model != Evaluated::Fused);
    }
}
