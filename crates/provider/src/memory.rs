//! glibc's allocator, held to what a long-running controller needs. By default it keeps a
//! heap (arena) per thread that ever allocated, up to eight per core, and returns freed
//! memory to the system only from the top of each heap. A controller's memory peaks while
//! it makes hundreds of objects at once and then idles for days: two arenas are enough
//! for a handful of worker threads, and what the peak left free is handed back now and
//! then. Measured by P4 of `make bench`.

use std::time::Duration;

/// Caps glibc's arenas. Call it first thing, before any thread starts.
pub fn limit_arenas() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    // SAFETY: mallopt only changes allocator settings; called before other threads exist.
    unsafe {
        libc::mallopt(libc::M_ARENA_MAX, 2);
    }
}

/// Every `period`, hands the memory that freed allocations left in the heaps back to the
/// system (it stays mapped but unbacked until used again).
pub async fn trim_every(period: Duration) {
    loop {
        tokio::time::sleep(period).await;
        #[cfg(all(target_os = "linux", target_env = "gnu"))]
        // SAFETY: malloc_trim takes the allocator's own locks; safe from any thread.
        unsafe {
            libc::malloc_trim(0);
        }
    }
}
