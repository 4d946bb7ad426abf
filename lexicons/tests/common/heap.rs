//! The heap of one thread, for tests and benchmarks that show memory is
//! bounded: a binary that includes this module allocates through the
//! system's allocator, counting the bytes a thread allocates and frees while
//! it has asked for it (other threads, and other tests, are not counted).
//! Run everything measured on the counting thread (a current-thread tokio
//! runtime).

use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::Cell;

struct Counting;

thread_local! {
    static COUNTING: Cell<bool> = const { Cell::new(false) };
    static LIVE: Cell<isize> = const { Cell::new(0) };
    static PEAK: Cell<isize> = const { Cell::new(0) };
}

fn count(delta: isize) {
    let _ = COUNTING.try_with(|counting| {
        if counting.get() {
            let live = LIVE.get() + delta;
            LIVE.set(live);
            PEAK.set(PEAK.get().max(live));
        }
    });
}

// SAFETY: every call goes to the system allocator unchanged.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        count(layout.size() as isize);
        // SAFETY: the caller's contract is the system allocator's.
        unsafe { System.alloc(layout) }
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        count(-(layout.size() as isize));
        // SAFETY: as above.
        unsafe { System.dealloc(ptr, layout) }
    }

    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        count(layout.size() as isize);
        // SAFETY: as above.
        unsafe { System.alloc_zeroed(layout) }
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        count(new_size as isize - layout.size() as isize);
        // SAFETY: as above.
        unsafe { System.realloc(ptr, layout, new_size) }
    }
}

#[global_allocator]
static ALLOCATOR: Counting = Counting;

/// Counts this thread's heap from now, from zero.
pub(crate) fn start() {
    LIVE.set(0);
    PEAK.set(0);
    COUNTING.set(true);
}

/// The bytes this thread has allocated and not freed since `start`
/// (frees of what it allocated before count against it).
pub(crate) fn live() -> isize {
    LIVE.get()
}

/// Stops counting; the highest `live` was since `start`.
pub(crate) fn stop() -> isize {
    COUNTING.set(false);
    PEAK.get()
}
