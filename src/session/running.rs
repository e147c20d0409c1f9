//! The session's one loop: it steps whichever job runs, the trainer or the study, and after a
//! training step looks at the test set, the watched activation, and whether lambda reached 1.
//! Starting one job pauses the other. The worker only calls [`Session::advance`] until it
//! answers false, letting the page's calls in between.

use web_time::Instant;

use crate::model::Weights;
use crate::session::Session;
use crate::session::answers::Progress;
use crate::session::error::{Result, SessionError};
use crate::session::events::Event;
use crate::session::jobs::{ACTIVATION_EVERY, JobState, WhenAnnealed};
use crate::train::evaluation::Evaluated;
use crate::train::options::TrainOptions;
use crate::train::study::{StudyOptions, StudyReport, StudyRun};
use crate::train::trainer::StepReport;

/// The two jobs of the loop.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Job {
    Train,
    Study,
}

impl Session {
    /// Starts (or goes on) training with these options; `eval_every` and `eval_limit` set the
    /// quick looks at the test set from now on. A finished run starts over.
    pub fn train(&mut self, options: TrainOptions, eval_every: Option<usize>, eval_limit: Option<usize>) -> Result<()> {
        if self.jobs.train == JobState::Finished {
            // Checked first: options refused leave the finished run there.
            options.model_config(self.data()?)?;
            self.reset();
        }
        self.ensure_trainer(options)?;
        if let Some(n) = eval_every.filter(|&n| n > 0) {
            self.jobs.eval_every = n;
        }
        if let Some(n) = eval_limit.filter(|&n| n > 0) {
            self.jobs.eval_limit = n;
        }
        self.start(Job::Train);
        Ok(())
    }

    /// Goes on training after a pause.
    pub fn resume(&mut self) -> Result<()> {
        if self.trainer.is_none() {
            return Err(SessionError::Refused("nothing to resume: start training first".into()));
        }
        if self.jobs.train == JobState::Finished {
            return Err(SessionError::Refused("training is finished: reset to train again".into()));
        }
        self.start(Job::Train);
        Ok(())
    }

    /// The loop stops before its next training step.
    pub fn pause(&mut self) {
        if self.jobs.train == JobState::Running {
            self.set_train_state(JobState::Paused);
        }
    }

    /// One training step while paused (a trainer with `options` is made first if there is
    /// none): its report.
    pub async fn step_once(&mut self, options: TrainOptions) -> Result<StepReport> {
        match self.jobs.train {
            JobState::Running => return Err(SessionError::Refused("pause before stepping".into())),
            JobState::Finished => {
                return Err(SessionError::Refused("training is finished: reset to train again".into()));
            }
            _ => {}
        }
        if self.trainer.is_none() {
            self.create_trainer(options)?;
        }
        let report = self.train_step().await?;
        if self.jobs.train != JobState::Finished {
            self.set_train_state(JobState::Paused);
        }
        Ok(report)
    }

    /// Ends deep training with the current epoch and trains on until lambda is 1; then the
    /// trainer pauses and does what `then` says (fusing into the classifier, or nothing more).
    /// Answers the options now in force, or none when lambda is 1 already.
    pub fn finish_annealing(&mut self, then: WhenAnnealed) -> Result<Option<TrainOptions>> {
        let trainer = self.trainer.as_mut().ok_or_else(|| SessionError::Refused("train a model first".into()))?;
        if !trainer.finish_annealing()? {
            return Ok(None);
        }
        let (options, total_steps) = (trainer.options().clone(), trainer.total_steps());
        self.emit(Event::Options { options: options.clone(), total_steps });
        self.jobs.when_annealed = Some(then);
        self.start(Job::Train);
        Ok(Some(options))
    }

    /// Starts a study on the loaded data, or continues `saved` (a report it gave before):
    /// answers its report so far.
    pub fn study_run(&mut self, options: StudyOptions, saved: Option<StudyReport>) -> Result<StudyReport> {
        let study = StudyRun::new(&self.device, self.data()?.clone(), options)?;
        let study = match saved {
            Some(saved) => study.resume(saved)?,
            None => study,
        };
        let report = study.report()?;
        self.study = Some(study);
        if report.finished {
            self.set_study_state(JobState::Finished);
        } else {
            self.start(Job::Study);
        }
        Ok(report)
    }

    pub fn study_pause(&mut self) {
        if self.jobs.study == JobState::Running {
            self.set_study_state(JobState::Paused);
        }
    }

    pub fn study_resume(&mut self) -> Result<()> {
        if self.jobs.study != JobState::Paused {
            return Err(SessionError::Refused("no paused study to resume".into()));
        }
        self.start(Job::Study);
        Ok(())
    }

    pub fn study_discard(&mut self) {
        self.study = None;
        self.set_study_state(JobState::Idle);
    }

    /// The study's report: arms, every finished run, the summary per arm.
    pub fn study_report(&self) -> Result<StudyReport> {
        Ok(self.study.as_ref().ok_or(SessionError::NoStudy)?.report()?)
    }

    /// Runs `job`, pausing the other (whose step in flight has finished: calls are one at a
    /// time).
    fn start(&mut self, job: Job) {
        match job {
            Job::Train => {
                if self.jobs.study == JobState::Running {
                    self.set_study_state(JobState::Paused);
                    self.emit(Event::Info { key: Some("study.pausedForTraining"), message: None });
                }
                self.set_train_state(JobState::Running);
            }
            Job::Study => {
                if self.jobs.train == JobState::Running {
                    self.set_train_state(JobState::Paused);
                    self.emit(Event::Info { key: Some("train.pausedForStudy"), message: None });
                }
                self.set_study_state(JobState::Running);
            }
        }
    }

    /// Whether the caller should start a loop: a job runs and no loop is stepping it yet.
    pub fn claim_loop(&mut self) -> bool {
        if self.jobs.looping || !self.jobs.running() {
            return false;
        }
        self.jobs.looping = true;
        true
    }

    /// The loop is over, however it ended (a call that failed on the way included): the next
    /// job started claims a new one.
    pub fn end_loop(&mut self) {
        self.jobs.looping = false;
    }

    /// One step of the job that runs; false (and the loop is over) when none does. A failed
    /// step pauses its job and is told as an error event.
    pub async fn advance(&mut self) -> bool {
        let job = match (self.jobs.train, self.jobs.study) {
            (JobState::Running, _) => Job::Train,
            (_, JobState::Running) => Job::Study,
            _ => {
                self.jobs.looping = false;
                return false;
            }
        };
        let done = match job {
            Job::Train => self.train_step().await.map(|_| ()),
            Job::Study => self.study_step().await,
        };
        if let Err(e) = done {
            let message = e.to_string();
            if job == Job::Train {
                self.emit(Event::Error { key: Some("train.stopped"), message });
                self.set_train_state(JobState::Paused);
            } else {
                self.emit(Event::Error { key: Some("study.stopped"), message });
                self.set_study_state(JobState::Paused);
            }
        }
        true
    }

    /// A training step and what follows it: the step told, an epoch's end evaluated on the
    /// whole test set (else every `eval_every` steps on part of it), the watched activation
    /// read, lambda reaching 1 acted on, the end of training.
    async fn train_step(&mut self) -> Result<StepReport> {
        let start = Instant::now();
        let report = self.trainer_mut()?.step().await?;
        // The step changed the weights: what was fused or evaluated of them is gone (a step
        // refused, as past the end, changed nothing and keeps them).
        self.weights_changed();
        let ms = start.elapsed().as_secs_f64() * 1e3;
        let train_accuracy = self.jobs.add_batch_accuracy(report.batch_accuracy);
        let next = Progress::of(self.trainer()?);
        let images_per_sec = report.batch_size as f64 * 1000.0 / ms;
        let warning = report.warning.clone();
        let (step, finished, annealed) = (report.global_step, next.finished, next.cannot_fuse.is_none());
        self.emit(Event::Step { report: report.clone(), ms, images_per_sec, train_accuracy, next });
        if let Some(message) = warning {
            self.emit(Event::Info { key: None, message: Some(message) });
        }
        if report.continued {
            self.emit(Event::Info { key: Some("train.continued"), message: None });
        }
        if report.epoch_end || finished {
            // Data without test images has nothing to evaluate; training goes on.
            if self.evaluation(Evaluated::Trained).await.is_err() {
                self.emit(Event::Eval { step, test_accuracy: Some(None), ema_accuracy: None, full: true });
            }
            if self.trainer()?.options().ema_decay > 0.0 {
                let _ = self.evaluation(Evaluated::Ema).await;
            }
            if let Some(accuracy) = self.validation_accuracy(Weights::Trained).await? {
                let ema_accuracy = self.validation_accuracy(Weights::Ema).await?;
                self.emit(Event::Validation { step, accuracy, ema_accuracy });
            }
        } else if step % self.jobs.eval_every == 0 {
            let limit = Some(self.jobs.eval_limit);
            let test_accuracy = Some(self.accuracy(Weights::Trained, limit).await?);
            let ema_accuracy = Some(self.accuracy(Weights::Ema, limit).await?);
            self.emit(Event::Eval { step, test_accuracy, ema_accuracy, full: false });
        }
        if step % ACTIVATION_EVERY == 0 || step == 1 {
            self.send_activation().await;
        }
        if annealed && let Some(then) = self.jobs.when_annealed.take() {
            if !finished {
                self.set_train_state(JobState::Paused);
            }
            self.emit(Event::Annealed);
            if let WhenAnnealed::Fuse(weights) = then {
                self.fuse_when_annealed(weights).await;
            }
        }
        if finished {
            self.send_activation().await;
            self.set_train_state(JobState::Finished);
        }
        Ok(report)
    }

    async fn fuse_when_annealed(&mut self, weights: Option<Weights>) {
        let fused = async {
            let report = self.fuse(None, weights).await?;
            self.warm_up().await?;
            let current = self.classifier.as_ref().ok_or(SessionError::NoClassifier)?;
            let classifier = crate::session::answers::ClassifierInfo::of(&current.classifier, current.origin)?;
            Ok::<_, SessionError>((report, classifier))
        }
        .await;
        match fused {
            Ok((report, classifier)) => self.emit(Event::Fused { report, classifier }),
            Err(e) => self.emit(Event::Error { key: None, message: e.to_string() }),
        }
    }

    async fn study_step(&mut self) -> Result<()> {
        let study = self.study.as_mut().ok_or(SessionError::NoStudy)?;
        let progress = study.step().await?;
        let run_done = progress.finished.is_some();
        self.emit(Event::StudyStep { progress });
        if run_done {
            let report = self.study_report()?;
            let finished = report.finished;
            self.emit(Event::StudyRun { report });
            if finished {
                self.set_study_state(JobState::Finished);
            }
        }
        Ok(())
    }
}
