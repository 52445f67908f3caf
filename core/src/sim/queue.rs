//! The event queue: events ordered by (time, sequence number). The sequence number breaks
//! ties in the order events were scheduled, so two runs with one seed pop the same events in
//! the same order.

use std::collections::BTreeMap;

use crate::Millis;

#[derive(Debug)]
pub struct EventQueue<E> {
    events: BTreeMap<(Millis, u64), E>,
    next_sequence: u64,
}

impl<E> Default for EventQueue<E> {
    fn default() -> Self {
        EventQueue {
            events: BTreeMap::new(),
            next_sequence: 0,
        }
    }
}

impl<E> EventQueue<E> {
    pub fn push(&mut self, at: Millis, event: E) {
        self.events.insert((at, self.next_sequence), event);
        self.next_sequence += 1;
    }

    pub fn pop(&mut self) -> Option<(Millis, E)> {
        self.events.pop_first().map(|((at, _), event)| (at, event))
    }

    pub fn peek_time(&self) -> Option<Millis> {
        self.events.keys().next().map(|(at, _)| *at)
    }

    pub fn len(&self) -> usize {
        self.events.len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pops_by_time_then_by_insertion() {
        let mut q = EventQueue::default();
        q.push(Millis(5), "b");
        q.push(Millis(1), "a");
        q.push(Millis(5), "c");
        assert_eq!(q.pop(), Some((Millis(1), "a")));
        assert_eq!(q.pop(), Some((Millis(5), "b")));
        assert_eq!(q.pop(), Some((Millis(5), "c")));
        assert_eq!(q.pop(), None);
    }
}
