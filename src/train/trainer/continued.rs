//! Fuse and continue (the `fuseAndContinue` option): once lambda reaches 1 the deep-training
//! pairs compute one linear map each, so the trainer merges them (`VanillaNet::merge_pairs`)
//! and trains that form, the net without deep training, for the rest of the run. Its
//! eval-mode logits are the pairs' at the switch; its moving average is merged the same way
//! and averages on; the optimizer keeps the moments of every tensor that stays as it was (the
//! series activations, the BNs kept, any shortcut), and the merged convs start fresh.

use burn::module::Module;

use super::Trainer;
use crate::error::Result;
use crate::model::config::VanillaNetConfig;
use crate::train::ema::Ema;

impl Trainer {
    /// The steps done when the pairs were merged and the one-conv form trained on from there;
    /// None while the pairs train (or the run never had any).
    pub fn continued_at(&self) -> Option<usize> {
        self.continued_at
    }

    /// The architecture the options chose, which the options are checked against: before a
    /// merge it is the net's; after it, the net's with deep training (what it was merged from).
    pub(super) fn config_as_chosen(&self) -> VanillaNetConfig {
        match self.continued_at {
            Some(_) => self.config.clone().with_deep_training(true),
            None => self.config.clone(),
        }
    }

    /// Merges the pairs when the options ask for it, lambda is 1 and steps are left; answers
    /// whether it did.
    pub(super) fn continue_if_due(&mut self) -> Result<bool> {
        let due = self.options.fuse_and_continue
            && self.continued_at.is_none()
            && !self.finished()
            && self.model().uses_lambda()
            && self.lambda() == 1.0;
        if due {
            self.continue_merged(self.global_step)?;
        }
        Ok(due)
    }

    /// The net (and its moving average) as one conv + BN a layer from here on, stamped as
    /// merged at step `at`. Nothing changes when the merge fails.
    pub(super) fn continue_merged(&mut self, at: usize) -> Result<()> {
        let lambda = self.lambda();
        let model = self.model().merge_pairs(lambda)?.train();
        let ema = match &self.ema {
            Some(average) => Some(Ema { net: average.net.merge_pairs(lambda)? }),
            None => None,
        };
        self.model = Some(model);
        self.ema = ema;
        self.config = self.config.clone().with_deep_training(false);
        self.continued_at = Some(at);
        // The restore point was of the pairs: the next step takes one of this form.
        self.checked_good = None;
        Ok(())
    }
}
