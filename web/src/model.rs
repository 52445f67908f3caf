//! The playground's state: one simulation, where it came from (scenario and seed), the faults a
//! person injected, and whether it is playing. Changes go through [`Action`]s.

use std::cell::RefCell;
use std::rc::Rc;

use partita_core::sim::scenarios::{self, Summary};
use partita_core::sim::{ClientSpec, Fault, Simulation, Snapshot};
use yew::Reducible;

use crate::key_colours::KeyColours;

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
    /// What a person did (faults, added clients), with the event count at which they did it,
    /// so that stepping back (a replay from the seed) repeats it.
    pub injected: Vec<(u64, UserAction)>,
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

/// Something a person did to the running simulation.
#[derive(Clone)]
pub enum UserAction {
    Fault(Fault),
    AddClient(ClientSpec),
}

impl UserAction {
    fn apply(self, sim: &mut Simulation) {
        match self {
            UserAction::Fault(fault) => sim.inject(fault),
            UserAction::AddClient(client) => {
                sim.add_client(client);
            }
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
    Inject(Fault),
    /// Starts a producer or consumer now.
    AddClient(ClientSpec),
    /// Runs the scenario to its end, reads every partition back and runs the checker.
    Finish,
}

impl Model {
    pub fn new(scenario: &str, seed: u64, step: u64) -> Model {
        let scenario = if scenarios::find(scenario).is_some() {
            scenario
        } else {
            scenarios::names()[0]
        };
        let spec = scenarios::spec(scenario).expect("a known scenario");
        let mut sim = Simulation::new(spec, seed);
        for _ in 0..step {
            if !step_within_end(&mut sim) {
                break;
            }
        }
        Model {
            scenario: scenario.to_string(),
            seed,
            snapshot: Rc::new(sim.snapshot()),
            sim: Rc::new(RefCell::new(sim)),
            injected: Vec::new(),
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

    fn record(&mut self, action: UserAction) {
        let at = self.events();
        self.injected.push((at, action.clone()));
        action.apply(&mut self.sim.borrow_mut());
    }

    /// The cluster as of the last change.
    pub fn snapshot(&self) -> Rc<Snapshot> {
        self.snapshot.clone()
    }

    pub fn events(&self) -> u64 {
        self.sim.borrow().events()
    }

    /// A fresh simulation of the same scenario and seed, with the same injected faults, run to
    /// `events` events.
    fn replay(&self, events: u64) -> Simulation {
        let spec = scenarios::spec(&self.scenario).expect("a known scenario");
        let mut sim = Simulation::new(spec, self.seed);
        let mut injected = self.injected.iter().peekable();
        while sim.events() < events {
            while let Some((_, action)) = injected.next_if(|(at, _)| *at <= sim.events()) {
                action.clone().apply(&mut sim);
            }
            if !step_within_end(&mut sim) {
                break;
            }
        }
        sim
    }
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
                next.sim = Rc::new(RefCell::new(next.replay(events)));
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
            Action::Inject(fault) => next.record(UserAction::Fault(fault)),
            Action::AddClient(client) => next.record(UserAction::AddClient(client)),
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
