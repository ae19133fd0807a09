//! What the benchmarks share.

use std::time::Instant;

/// Runs `first` and `second` back to back `PAIRS` times, `BATCH` calls each,
/// alternating which goes first, and returns the quartiles of the ratios
/// `second / first`. Load from other processes hits both halves of a pair
/// alike, which separate criterion runs on a shared machine do not.
pub fn paired(first: &mut dyn FnMut(), second: &mut dyn FnMut()) -> [f64; 3] {
    const PAIRS: usize = 2001;
    const BATCH: usize = 200;
    let time = |f: &mut dyn FnMut()| {
        let start = Instant::now();
        for _ in 0..BATCH {
            f();
        }
        start.elapsed().as_secs_f64()
    };
    let mut ratios: Vec<f64> = (0..PAIRS)
        .map(|i| {
            if i % 2 == 0 {
                let a = time(first);
                time(second) / a
            } else {
                let b = time(second);
                b / time(first)
            }
        })
        .collect();
    ratios.sort_by(f64::total_cmp);
    [ratios[PAIRS / 4], ratios[PAIRS / 2], ratios[3 * PAIRS / 4]]
}
