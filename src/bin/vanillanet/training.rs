//! `vanillanet train` and `vanillanet ablate`: the page's training loop and its studies, with the
//! page's options (Rust's options table).

use vanillanet::model::Weights;
use vanillanet::train::trainer::Trainer;
use vanillanet::{Error, Result, state_dict};

use crate::args::{AblateArgs, Backend, TrainArgs};
use crate::commands::{device, load_dataset, write_file, write_model};

pub fn train(args: TrainArgs, backend: Backend) -> Result<()> {
    let TrainArgs { data, options, output, output_training, weights, probe_every } = args;
    let dataset = load_dataset(&data)?;
    let device = device(backend)?;
    let mut trainer = Trainer::new(&device, dataset, options)?;
    trainer.set_probe_every(probe_every)?;
    let weights = weights.unwrap_or(trainer.default_weights());
    if weights == Weights::Ema && trainer.ema().is_none() {
        return Err(Error::InvalidInput("--weights ema: there is no moving average with --ema-decay 0".into()));
    }
    let c = trainer.config();
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
        let (mut loss, mut correct, mut seen, mut lambda, mut lr) = (0.0, 0.0, 0, 0.0, 0.0);
        while trainer.epoch() == epoch {
            let r = pollster::block_on(trainer.step())?;
            loss += r.loss as f64 * r.batch_size as f64;
            correct += r.batch_accuracy as f64 * r.batch_size as f64;
            seen += r.batch_size;
            (lambda, lr) = (r.lambda, r.learning_rate);
        }
        let secs = start.elapsed().as_secs_f64();
        let percent = |a: Option<f32>| a.map_or("-".into(), |a| format!("{:.2}%", 100.0 * a));
        let test = pollster::block_on(trainer.evaluate(None))?;
        let ema = match trainer.ema() {
            Some(_) => format!("  ema {}", percent(pollster::block_on(trainer.evaluate_ema(None))?)),
            None => String::new(),
        };
        println!(
            "epoch {:>3}  lambda {lambda:.3}  lr {lr:.2e}  loss {:.4}  train {:.2}%  test {}{ema}  {:.0} images/s",
            epoch + 1,
            loss / seen as f64,
            100.0 * correct / seen as f64,
            percent(test),
            seen as f64 / secs
        );
        if let Some(p) = trainer.decay().at_or_before(trainer.global_step()) {
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
        println!(
            "wrote the fused model ({held}) to {}: test {accuracy} fused, max logit diff {:.1e}",
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

pub fn ablate(args: AblateArgs, backend: Backend) -> Result<()> {
    let AblateArgs { data, options, json } = args;
    use vanillanet::train::study::StudyRun;
    let data = load_dataset(&data)?;
    let (study, seeds, t) = (options.study, options.seeds, &options.train);
    let (epochs, batch_size, decay_epochs) = (t.epochs, t.batch_size, t.decay_epochs);
    let device = device(backend)?;
    let mut run = StudyRun::new(&device, data, options)?;
    let report = run.report()?;
    println!(
        "study {}: {} arms x {seeds} seeds on {} ({} train / {} test images), {} steps each ({epochs} epochs, batch {batch_size}, lambda annealed over {decay_epochs})",
        study.name(),
        report.arms.len(),
        report.dataset,
        report.train_images,
        report.test_images,
        report.steps_per_run
    );
    // The JSON is rewritten after every run, so a long study stopped early keeps what it found.
    let write_json = |report: &vanillanet::train::study::StudyReport| -> Result<()> {
        let Some(path) = &json else { return Ok(()) };
        let text = serde_json::to_string_pretty(report).map_err(|e| Error::encode("JSON", e))?;
        write_file(path, text.as_bytes())
    };
    while !run.finished() {
        let progress = pollster::block_on(run.step())?;
        if let Some(r) = progress.finished {
            write_json(&run.report()?)?;
            println!(
                "run {:>2}/{}  {:<28} seed {}  test {:.2}%  (fused; max logit diff {:.1e})  loss {:.4}  {:.1} s",
                progress.run + 1,
                progress.runs,
                report.arms[r.arm].name,
                r.seed,
                100.0 * r.accuracy,
                r.max_logit_diff,
                r.final_loss,
                r.train_seconds
            );
        }
    }
    let report = run.report()?;
    println!("\n{}\npaper: {}", report.markdown(), report.claim);
    write_json(&report)?;
    if let Some(path) = &json {
        println!("wrote {}", path.display());
    }
    Ok(())
}
