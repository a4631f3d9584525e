//! A 4-ary max-heap with the part of `BinaryHeap`'s interface the engine's timers use.
//!
//! The engine pops a timer for every expiry, close and forget: hundreds of thousands in a
//! storm, from a heap of tens of thousands of 40-byte timers. A binary heap's pop walks ~15
//! levels, each a cache miss on a big heap; with four children per node the walk is half as
//! deep and the children of a node sit side by side. Elements that compare equal are equal
//! (the timers derive `Ord`), so the pop order is exactly the binary heap's.

use std::collections::VecDeque;

/// Max-heap: `pop` returns the greatest element (wrap in `Reverse` for earliest-first).
#[derive(Clone, Debug)]
pub struct TimerHeap<T> {
    items: Vec<T>,
}

const ARITY: usize = 4;

impl<T: Ord> TimerHeap<T> {
    pub fn new() -> TimerHeap<T> {
        TimerHeap { items: Vec::new() }
    }

    pub fn len(&self) -> usize {
        self.items.len()
    }

    pub fn is_empty(&self) -> bool {
        self.items.is_empty()
    }

    #[inline]
    pub fn peek(&self) -> Option<&T> {
        self.items.first()
    }

    pub fn clear(&mut self) {
        self.items.clear();
    }

    /// Elements in no particular order.
    pub fn iter(&self) -> std::slice::Iter<'_, T> {
        self.items.iter()
    }

    pub fn push(&mut self, item: T) {
        self.items.push(item);
        self.sift_up(self.items.len() - 1);
    }

    pub fn pop(&mut self) -> Option<T> {
        let mut top = self.items.pop()?;
        if self.items.is_empty() {
            return Some(top);
        }
        // The last element takes the root's place. It came from the bottom and nearly always
        // belongs near it again, so (as `BinaryHeap` does) the greatest child moves up at every
        // level down to the bottom without comparing it with the moving element, which then
        // climbs back the level or so it belongs above: a compare fewer per level.
        std::mem::swap(&mut top, &mut self.items[0]);
        let len = self.items.len();
        let mut i = 0;
        loop {
            let first = i * ARITY + 1;
            if first >= len {
                break;
            }
            let end = (first + ARITY).min(len);
            let mut best = first;
            for c in first + 1..end {
                if self.items[c] > self.items[best] {
                    best = c;
                }
            }
            self.items.swap(i, best);
            i = best;
        }
        self.sift_up(i);
        Some(top)
    }

    /// Moves the element at `i` up while it is greater than its parent.
    fn sift_up(&mut self, mut i: usize) {
        while i > 0 {
            let parent = (i - 1) / ARITY;
            if self.items[i] <= self.items[parent] {
                break;
            }
            self.items.swap(i, parent);
            i = parent;
        }
    }
}

impl<T: Ord> Default for TimerHeap<T> {
    fn default() -> Self {
        TimerHeap::new()
    }
}

impl<T: Ord> FromIterator<T> for TimerHeap<T> {
    fn from_iter<I: IntoIterator<Item = T>>(iter: I) -> Self {
        let mut heap = TimerHeap::new();
        for item in iter {
            heap.push(item);
        }
        heap
    }
}

/// How far from the back of its sorted run a [`TimerQueue`] looks for the place of a timer
/// that arrives slightly out of order (a few occurrences of a burst, delivered late).
const RUN_WINDOW: usize = 16;

/// A max-queue for timers pushed nearly in order, as the engine's are: an alert's expiry is
/// its last update plus a fixed delay, a close or a forget is the expiry plus one, so
/// deadlines are pushed in about the order of the stream's event times.
///
/// The timers pushed in order (or within `RUN_WINDOW` of the latest) go to a sorted run, a
/// `VecDeque` popped from the front: no sifting, and a pop reads the next timer where the
/// last one was. The others (re-armed expiries, timers pushed far out of order) go to a
/// [`TimerHeap`], which stays small. `pop` returns the greater of the two heads, so the order
/// is exactly one heap's (elements that compare equal are equal).
#[derive(Clone, Debug)]
pub struct TimerQueue<T> {
    /// Sorted greatest first: the front pops next.
    run: VecDeque<T>,
    rest: TimerHeap<T>,
}

impl<T: Ord> TimerQueue<T> {
    pub fn new() -> TimerQueue<T> {
        TimerQueue {
            run: VecDeque::new(),
            rest: TimerHeap::new(),
        }
    }

    pub fn len(&self) -> usize {
        self.run.len() + self.rest.len()
    }

    pub fn is_empty(&self) -> bool {
        self.run.is_empty() && self.rest.is_empty()
    }

    #[inline]
    pub fn peek(&self) -> Option<&T> {
        match (self.run.front(), self.rest.peek()) {
            (Some(r), Some(h)) => Some(if r >= h { r } else { h }),
            (r, h) => r.or(h),
        }
    }

    pub fn clear(&mut self) {
        self.run.clear();
        self.rest.clear();
    }

    /// Elements in no particular order.
    pub fn iter(&self) -> impl Iterator<Item = &T> + '_ {
        self.run.iter().chain(self.rest.iter())
    }

    pub fn push(&mut self, item: T) {
        // The run is sorted greatest first (the latest deadline last, under `Reverse`).
        let len = self.run.len();
        if self.run.back().is_none_or(|last| *last >= item) {
            self.run.push_back(item);
            return;
        }
        // Out of order: in among the last `RUN_WINDOW` elements, or far out (to the heap).
        if len >= RUN_WINDOW && self.run[len - RUN_WINDOW] < item {
            self.rest.push(item);
            return;
        }
        let mut at = len - 1;
        while at > 0 && self.run[at - 1] < item {
            at -= 1;
        }
        self.run.insert(at, item);
        debug_assert!(at == 0 || self.run[at - 1] >= self.run[at]);
        debug_assert!(self.run[at] > self.run[at + 1]);
    }

    pub fn pop(&mut self) -> Option<T> {
        let from_run = match (self.run.front(), self.rest.peek()) {
            (Some(r), Some(h)) => r >= h,
            (r, _) => r.is_some(),
        };
        if from_run {
            self.run.pop_front()
        } else {
            self.rest.pop()
        }
    }
}

impl<T: Ord> Default for TimerQueue<T> {
    fn default() -> Self {
        TimerQueue::new()
    }
}

impl<T: Ord> FromIterator<T> for TimerQueue<T> {
    fn from_iter<I: IntoIterator<Item = T>>(iter: I) -> Self {
        let mut queue = TimerQueue::new();
        for item in iter {
            queue.push(item);
        }
        queue
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use std::cmp::Reverse;
    use std::collections::BinaryHeap;

    proptest! {
        /// Any interleaving of pushes and pops gives what `BinaryHeap` gives.
        #[test]
        fn pops_in_binary_heap_order(ops in proptest::collection::vec(
            prop_oneof![(0u16..50).prop_map(Some), Just(None)], 0..400)) {
            let mut mine = TimerHeap::new();
            let mut std_heap = BinaryHeap::new();
            for op in ops {
                match op {
                    Some(v) => {
                        mine.push(v);
                        std_heap.push(v);
                    }
                    None => prop_assert_eq!(mine.pop(), std_heap.pop()),
                }
                prop_assert_eq!(mine.peek(), std_heap.peek());
                prop_assert_eq!(mine.len(), std_heap.len());
            }
            let rebuilt: TimerHeap<u16> = mine.iter().copied().collect();
            let mut rebuilt = rebuilt;
            while let Some(v) = std_heap.pop() {
                prop_assert_eq!(mine.pop(), Some(v));
                prop_assert_eq!(rebuilt.pop(), Some(v));
            }
            prop_assert!(mine.is_empty() && rebuilt.is_empty());
        }

        /// A queue gives what `BinaryHeap` gives for any interleaving of pushes and pops, with
        /// the pushes mostly in deadline order (the sorted run), slightly out of it (placed
        /// within the run's window) and far out of it (the heap), ties included.
        #[test]
        fn queue_pops_in_binary_heap_order(ops in proptest::collection::vec(
            prop_oneof![
                4 => (0i64..3).prop_map(Step::Later),
                2 => (0i64..40).prop_map(Step::Earlier),
                1 => (0i64..400).prop_map(Step::Earlier),
                2 => Just(Step::Pop),
            ], 0..600), tie_break in 0u8..3) {
            let mut mine = TimerQueue::new();
            let mut std_heap = BinaryHeap::new();
            let mut latest = 0i64;
            for (i, op) in ops.into_iter().enumerate() {
                let at = match op {
                    Step::Later(d) => {
                        latest += d;
                        latest
                    }
                    Step::Earlier(d) => latest - d,
                    Step::Pop => {
                        prop_assert_eq!(mine.pop(), std_heap.pop());
                        prop_assert_eq!(mine.peek(), std_heap.peek());
                        continue;
                    }
                };
                let item = Reverse((at, (i as u8) % (tie_break + 1)));
                mine.push(item);
                std_heap.push(item);
                prop_assert_eq!(mine.peek(), std_heap.peek());
                prop_assert_eq!(mine.len(), std_heap.len());
            }
            let rebuilt: TimerQueue<_> = mine.iter().copied().collect();
            let mut rebuilt = rebuilt;
            while let Some(v) = std_heap.pop() {
                prop_assert_eq!(mine.pop(), Some(v));
                prop_assert_eq!(rebuilt.pop(), Some(v));
            }
            prop_assert!(mine.is_empty() && rebuilt.is_empty());
            prop_assert_eq!(mine.pop(), None);
        }
    }

    #[derive(Clone, Debug)]
    enum Step {
        /// Push a deadline this much after the latest so far.
        Later(i64),
        /// Push a deadline this much before the latest so far.
        Earlier(i64),
        Pop,
    }
}
