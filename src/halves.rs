//! Work on a plan of thousands of nodes split between two threads: reading each
//! scan's conditions, building each scan's index candidate. Each item is done
//! alone, so the two halves of a list can be done side by side.

use std::thread::ScopedJoinHandle;

/// Items from which [`map`] does a list in two halves: below that a thread costs
/// more than it saves (one threshold for every list; none was measured apart).
pub const SPLIT_FROM: usize = 2000;

/// `f` of each item, in order. From [`SPLIT_FROM`] items up, the second half is
/// done on a thread of its own meanwhile.
pub fn map<T: Sync, R: Send>(items: &[T], f: impl Fn(&T) -> R + Sync) -> Vec<R> {
    map_from(items, SPLIT_FROM, f)
}

/// [`map`], splitting from `from` items up.
fn map_from<T: Sync, R: Send>(items: &[T], from: usize, f: impl Fn(&T) -> R + Sync) -> Vec<R> {
    if items.len() < from {
        return items.iter().map(&f).collect();
    }
    let (first, second) = items.split_at(items.len() / 2);
    std::thread::scope(|scope| {
        let other = scope.spawn(|| second.iter().map(&f).collect::<Vec<R>>());
        let mut all = Vec::with_capacity(items.len());
        all.extend(first.iter().map(&f));
        all.extend(joined(other));
        all
    })
}

/// A scoped thread's result; its panic, if it had one, goes on in the caller.
pub fn joined<T>(thread: ScopedJoinHandle<'_, T>) -> T {
    thread.join().unwrap_or_else(|panic| std::panic::resume_unwind(panic))
}

#[cfg(test)]
mod tests {
    #[test]
    fn halves_keep_the_order_and_a_panic_is_the_callers() {
        let items: Vec<usize> = (0..1001).collect();
        let squares = |i: &usize| i * i;
        assert_eq!(super::map_from(&items, 10, squares), items.iter().map(squares).collect::<Vec<_>>(), "split");
        assert_eq!(super::map_from(&items, 5000, squares), items.iter().map(squares).collect::<Vec<_>>(), "not split");
        assert_eq!(super::map_from(&items[..0], 0, squares), Vec::<usize>::new());
        let panicked = std::panic::catch_unwind(|| super::map_from(&items, 10, |&i| if i == 900 { panic!("item 900") } else { i }));
        assert_eq!(panicked.unwrap_err().downcast_ref::<&str>(), Some(&"item 900"), "the second half's panic, as it was");
    }
}
