//! Which chapter functions ran: the record behind the `trace!` lines of the chapters, kept in the
//! library's unit tests only, so that the demo's source tags can be checked against what ran.

use std::cell::RefCell;
use std::collections::BTreeSet;

thread_local! {
    /// The `file function` names recorded on this thread since the last [`take`].
    static RAN: RefCell<BTreeSet<&'static str>> = const { RefCell::new(BTreeSet::new()) };
}

/// Records that `function` (`"dense.rs Dense::forward"`) ran on this thread.
pub(crate) fn ran(function: &'static str) {
    RAN.with(|ran| ran.borrow_mut().insert(function));
}

/// The functions recorded on this thread since the last call, and a fresh start.
pub(crate) fn take() -> BTreeSet<&'static str> {
    RAN.with(|ran| std::mem::take(&mut *ran.borrow_mut()))
}
