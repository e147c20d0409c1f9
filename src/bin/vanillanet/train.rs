//! `vanillanet train`: the page's training loop on a dataset, with the page's options (the
//! options table), a line per epoch; the fused model and the training form saved if asked.

use vanillanet::model::Weights;
use vanillanet::train::evaluation::{Accuracy, accuracies_on, fused_accuracies_on};
use vanillanet::train::trainer::Trainer;
use vanillanet::train::tta::Tta;
use vanillanet::{Error, Result, state_dict};

use crate::args::TrainArgs;
use crate::context::{Context, write_file, write_model};
use crate::datasets::load_dataset;

pub fn run(args: TrainArgs, context: &Context) -> Result<()> {
    let TrainArgs { data, options, output, output_training, weights, probe_every } = args;
    let dataset = load_dataset(&data)?;
    let device = context.device()?;
    let mut trainer = Trainer::new(&device, dataset, options)?;
    trainer.set_probe_every(probe_every)?;
    let weights = weights.unwrap_or(trainer.default_weights());
    if weights == Weights::Ema && trainer.ema().is_none() {
        return Err(Error::InvalidInput("--weights ema: there is no moving average with --ema-decay 0".into()));
    }
    let c = trainer.config();
    println!(
        "{}: {} training images, {} held out for validation, {} test",
        trainer.data().name,
        trainer.data().train.len(),
        trainer.validation().len(),
        trainer.data().test.len()
    );
    println!(
        "{}: dims {:?} strides {:?}, {} parameters ({} fused); {} steps per epoch",
        trainer.data().name,
        c.dims,
        c.strides,
        c.params_train(),
        c.params_deploy(),
        trainer.steps_per_epoch()
    );
    let total = std::time::Instant::now();
    while !trainer.finished() {
        let (start, epoch) = (std::time::Instant::now(), trainer.epoch());
        let first_step = trainer.global_step();
        let (mut loss, mut correct, mut seen, mut lambda, mut lr) = (0.0, 0.0, 0, 0.0, 0.0);
        while trainer.epoch() == epoch {
            let r = pollster::block_on(trainer.step())?;
            if r.continued {
                let c = trainer.config();
                println!(
                    "step {}: lambda reached 1: the pairs are fused, the one-conv form ({} parameters) trains on",
                    trainer.continued_at().unwrap_or(r.global_step),
                    c.params_train()
                );
            }
            loss += r.loss as f64 * r.batch_size as f64;
            correct += r.batch_accuracy as f64 * r.batch_size as f64;
            seen += r.batch_size;
            (lambda, lr) = (r.lambda, r.learning_rate);
        }
        let secs = start.elapsed().as_secs_f64();
        let percent = |a: Option<Accuracy>| a.map_or("-".into(), said);
        // Validation first: it is what a recipe is chosen on; the test figure is only reported.
        // Test-time augmentation (a forward a view) only for the weights that are fused.
        let scores = |w| -> Result<String> {
            let (net, tta) = (trainer.trained_net(w)?, if w == weights { trainer.options().tta } else { Tta::Off });
            let test = pollster::block_on(accuracies_on(&net, &trainer.data().test, None, tta))?;
            Ok(match pollster::block_on(accuracies_on(&net, trainer.validation(), None, tta))? {
                Some(val) => format!("val {} test {}", said(val), percent(test)),
                None => format!("test {}", percent(test)),
            })
        };
        let ema = match trainer.ema() {
            Some(_) => format!("  ema {}", scores(Weights::Ema)?),
            None => String::new(),
        };
        println!(
            "epoch {:>3}  lambda {lambda:.3}  lr {lr:.2e}  loss {:.4}  train {:.2}%  {}{ema}  {:.0} images/s",
            epoch + 1,
            loss / seen as f64,
            100.0 * correct / seen as f64,
            scores(Weights::Trained)?,
            seen as f64 / secs
        );
        // Merged, the net has no leaky activations left: its last probe is not said again.
        let probed = trainer.decay().at_or_before(trainer.global_step());
        if let Some(p) = probed.filter(|_| trainer.continued_at().is_none_or(|at| at > first_step)) {
            println!("           inside (step {}): {}", p.step, p.line());
        }
    }
    println!("trained in {:.0} s", total.elapsed().as_secs_f64());
    let held = match weights {
        Weights::Ema => "the moving average of the weights",
        Weights::Trained => "the weights as trained",
    };
    if let Some(output) = output {
        let (fused, report) = pollster::block_on(trainer.fuse_weights(weights, trainer.data().test.len()))?;
        write_model(&output, state_dict(&fused.model)?, &fused.card)?;
        let accuracy = report.accuracy_deploy.map_or("-".into(), |a| format!("{:.2}%", 100.0 * a));
        let (data, tta) = (trainer.data(), trainer.options().tta);
        let tta = pollster::block_on(fused_accuracies_on(&fused, data, &data.test, None, tta, &trainer.device()))?
            .and_then(|a| a.tta)
            .map_or(String::new(), |a| format!(" (tta {:.2}%)", 100.0 * a));
        println!(
            "wrote the fused model ({held}) to {}: test {accuracy}{tta} fused, max logit diff {:.1e}",
            output.display(),
            report.max_logit_diff
        );
    }
    if let Some(output) = output_training {
        write_file(&output, &pollster::block_on(trainer.export_training_of(weights))?)?;
        println!("wrote the training form ({held}) to {}", output.display());
    }
    Ok(())
}

/// "90.12%", or "90.12% (tta 90.50%)" with test-time augmentation.
fn said(a: Accuracy) -> String {
    let tta = a.tta.map_or(String::new(), |t| format!(" (tta {:.2}%)", 100.0 * t));
    format!("{:.2}%{tta}", 100.0 * a.plain)
}
