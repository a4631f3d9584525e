//! A 4-ary max-heap with the part of `BinaryHeap`'s interface the engine's timers use.
//!
//! The engine pops a timer for every expiry, close and forget: hundreds of thousands in a
//! storm, from a heap of tens of thousands of 40-byte timers. A binary heap's pop walks ~15
//! levels, each a cache miss on a big heap; with four children per node the walk is half as
//! deep and the children of a node sit side by side. Elements that compare equal are equal
//! (the timers derive `Ord`), so the pop order is exactly the binary heap's.

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

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
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
    }
}
