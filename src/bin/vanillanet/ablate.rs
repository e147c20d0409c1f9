//! `vanillanet ablate`: one of the paper's ablations, every arm of a study trained with the same
//! data, data order, seeds, step budget and schedule, fused, and tabled (also as JSON).

use vanillanet::Result;
use vanillanet::train::study::{StudyReport, StudyRun};

use crate::args::AblateArgs;
use crate::context::{Context, write_json};
use crate::datasets::load_dataset;

pub fn run(args: AblateArgs, context: &Context) -> Result<()> {
    let AblateArgs { data, options, json } = args;
    let data = load_dataset(&data)?;
    let (study, seeds, t) = (options.study, options.seeds, &options.train);
    let (epochs, batch_size, decay_epochs) = (t.epochs, t.batch_size, t.decay_epochs);
    let device = context.device()?;
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
    let save = |report: &StudyReport| -> Result<()> { json.as_ref().map_or(Ok(()), |path| write_json(path, report)) };
    while !run.finished() {
        let progress = pollster::block_on(run.step())?;
        if let Some(r) = progress.finished {
            save(&run.report()?)?;
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
    save(&report)?;
    if let Some(path) = &json {
        println!("wrote {}", path.display());
    }
    Ok(())
}
