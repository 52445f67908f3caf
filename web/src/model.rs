//! The playground's state: one simulation, where it came from (scenario and seed), the faults a
//! person injected, and whether it is playing. Changes go through [`Action`]s.

use std::cell::RefCell;
use std::rc::Rc;

use partita_core::sim::scenarios::{self, Summary};
use partita_core::sim::{Simulation, Snapshot};
use yew::Reducible;

use crate::key_colours::KeyColours;
use crate::page_action::{Effect, PageAction};

/// At most this many events per play tick, whatever the speed.
pub const EVENTS_PER_TICK_MAX: u32 = 500;
/// Lag samples kept for the charts (the oldest go first).
pub const LAG_SAMPLES_MAX: usize = 400;

/// Each group's total lag at one simulated moment.
#[derive(Clone, Debug, PartialEq)]
pub struct LagSample {
    pub at_ms: u64,
    pub lag_by_group: Vec<(String, i64)>,
}

#[derive(Clone)]
pub struct Model {
    pub scenario: String,
    pub seed: u64,
    /// Shared, not copied: the model is cloned on every action, the simulation never.
    pub sim: Rc<RefCell<Simulation>>,
    /// The cluster as it is now, taken once per change and read by every component.
    snapshot: Rc<Snapshot>,
    /// What a person did, with the event count at which they did it, so that stepping back
    /// (a replay from the seed) and a shared link repeat it.
    pub injected: Vec<(u64, PageAction)>,
    pub playing: bool,
    /// Events per play tick.
    pub speed: u32,
    /// Total lag per group over time, sampled after every change, for the charts.
    pub lag_history: Rc<Vec<LagSample>>,
    /// Which colour each record key is drawn in (kept across steps, new with each scenario).
    pub key_colours: Rc<KeyColours>,
    /// The checker's verdict, once the run was finished.
    pub verdict: Option<Rc<Summary>>,
    /// Bumped on every change, so that components re-render.
    pub version: u64,
}

/// Applies what a person did to the simulation as it is now.
fn apply(action: &PageAction, sim: &mut Simulation) {
    match action.effect(sim) {
        Effect::Fault(fault) => sim.inject(fault),
        Effect::AddClient(client) => {
            sim.add_client(*client);
        }
    }
}

pub enum Action {
    Step,
    /// Replays from the seed to the event before the current one.
    StepBack,
    /// Runs `speed` events (a tick of play).
    Tick,
    TogglePlay,
    SetSpeed(u32),
    /// Starts a scenario over with a seed, optionally fast-forwarded to an event count.
    Load {
        scenario: String,
        seed: u64,
        step: u64,
    },
    /// A fault, a new client, a new topic: what a person does to the running cluster.
    Do(PageAction),
    /// Runs the scenario to its end, reads every partition back and runs the checker.
    Finish,
}

impl Model {
    pub fn new(scenario: &str, seed: u64, step: u64) -> Model {
        Model::with_actions(scenario, seed, step, Vec::new())
    }

    /// A scenario at event `step`, with what a person did on the way (from a shared link).
    pub fn with_actions(
        scenario: &str,
        seed: u64,
        step: u64,
        mut injected: Vec<(u64, PageAction)>,
    ) -> Model {
        // A link edited by hand may list them out of order; the replay takes them in order.
        injected.sort_by_key(|(at, _)| *at);
        let scenario = if scenarios::find(scenario).is_some() {
            scenario
        } else {
            scenarios::names()[0]
        };
        let sim = replay(scenario, seed, &injected, step);
        // What a link says was done after the scenario's end never happened.
        let injected = injected
            .into_iter()
            .filter(|(at, _)| *at <= sim.events())
            .collect();
        Model {
            scenario: scenario.to_string(),
            seed,
            snapshot: Rc::new(sim.snapshot()),
            sim: Rc::new(RefCell::new(sim)),
            injected,
            playing: false,
            speed: 5,
            verdict: None,
            key_colours: Rc::default(),
            lag_history: Rc::new(Vec::new()),
            version: 0,
        }
    }

    /// Takes the snapshot of the cluster as it is now, and a lag sample from it.
    fn refresh(&mut self) {
        self.snapshot = Rc::new(self.sim.borrow().snapshot());
        self.sample_lag();
    }

    /// Adds a lag sample for the current moment (replacing one taken at the same time).
    fn sample_lag(&mut self) {
        let snapshot = &self.snapshot;
        let sample = LagSample {
            at_ms: snapshot.now.0,
            lag_by_group: snapshot
                .groups
                .iter()
                .map(|g| (g.group_id.clone(), g.lag.iter().filter_map(|l| l.lag).sum()))
                .collect(),
        };
        let history = Rc::make_mut(&mut self.lag_history);
        history.retain(|s| s.at_ms < sample.at_ms);
        history.push(sample);
        if history.len() > LAG_SAMPLES_MAX {
            history.remove(0);
        }
    }

    fn record(&mut self, action: PageAction) {
        let at = self.events();
        apply(&action, &mut self.sim.borrow_mut());
        self.injected.push((at, action));
    }

    /// The cluster as of the last change.
    pub fn snapshot(&self) -> Rc<Snapshot> {
        self.snapshot.clone()
    }

    pub fn events(&self) -> u64 {
        self.sim.borrow().events()
    }
}

/// A fresh simulation of `scenario` with `seed`, run to `events` events, with what a person
/// did applied at the event counts they did it at.
fn replay(scenario: &str, seed: u64, injected: &[(u64, PageAction)], events: u64) -> Simulation {
    let spec = scenarios::spec(scenario).expect("a known scenario");
    let mut sim = Simulation::new(spec, seed);
    let mut injected = injected.iter().peekable();
    loop {
        while let Some((_, action)) = injected.next_if(|(at, _)| *at <= sim.events()) {
            apply(action, &mut sim);
        }
        if sim.events() >= events || !step_within_end(&mut sim) {
            break;
        }
    }
    sim
}

/// One event, unless the next one lies past the scenario's end (the cluster would go on
/// heartbeating forever; the scenario's story is over). False when nothing was stepped.
pub fn step_within_end(sim: &mut Simulation) -> bool {
    let end = sim.spec().end_ms;
    match sim.next_event_at() {
        Some(at) if at <= end => sim.step(),
        _ => false,
    }
}

impl Reducible for Model {
    type Action = Action;

    fn reduce(self: Rc<Self>, action: Action) -> Rc<Self> {
        let mut next = (*self).clone();
        next.version += 1;
        match action {
            Action::Step => {
                step_within_end(&mut next.sim.borrow_mut());
            }
            Action::Tick => {
                let mut sim = next.sim.borrow_mut();
                for _ in 0..next.speed.min(EVENTS_PER_TICK_MAX) {
                    if !step_within_end(&mut sim) {
                        next.playing = false;
                        break;
                    }
                }
            }
            Action::StepBack => {
                next.verdict = None;
                let events = next.events().saturating_sub(1);
                next.injected.retain(|(at, _)| *at <= events);
                let sim = replay(&next.scenario, next.seed, &next.injected, events);
                next.sim = Rc::new(RefCell::new(sim));
            }
            Action::TogglePlay => next.playing = !next.playing,
            Action::SetSpeed(speed) => next.speed = speed.clamp(1, EVENTS_PER_TICK_MAX),
            Action::Load {
                scenario,
                seed,
                step,
            } => {
                let playing = next.playing;
                next = Model {
                    version: next.version,
                    playing,
                    ..Model::new(&scenario, seed, step)
                };
            }
            Action::Finish => {
                let scenario = scenarios::find(&next.scenario).expect("a known scenario");
                let summary = scenarios::run_simulation(scenario, &mut next.sim.borrow_mut());
                next.verdict = Some(Rc::new(summary));
                next.playing = false;
            }
            Action::Do(action) => next.record(action),
        }
        next.refresh();
        Rc::new(next)
    }
}

impl PartialEq for Model {
    fn eq(&self, other: &Model) -> bool {
        self.version == other.version && Rc::ptr_eq(&self.sim, &other.sim)
    }
}
