//! The kernels' loops over planes and channels: on rayon's threads with the `rayon` feature,
//! in order without it (the single-threaded browser build).

/// Runs `f(scratch, index, chunk)` on each `len`-sized chunk of `out`, each thread with its own
/// `scratch` from `init`.
pub fn chunks<T: Send, S>(
    out: &mut [T],
    len: usize,
    init: impl Fn() -> S + Sync + Send,
    f: impl Fn(&mut S, usize, &mut [T]) + Sync + Send,
) {
    #[cfg(feature = "rayon")]
    {
        use rayon::prelude::*;
        out.par_chunks_mut(len).enumerate().for_each_init(init, |s, (i, c)| f(s, i, c));
    }
    #[cfg(not(feature = "rayon"))]
    {
        let mut s = init();
        out.chunks_mut(len).enumerate().for_each(|(i, c)| f(&mut s, i, c));
    }
}

/// [`chunks`] over two outputs at once: chunk `i` of each.
pub fn chunks2<T: Send, U: Send, S>(
    a: (&mut [T], usize),
    b: (&mut [U], usize),
    init: impl Fn() -> S + Sync + Send,
    f: impl Fn(&mut S, usize, &mut [T], &mut [U]) + Sync + Send,
) {
    #[cfg(feature = "rayon")]
    {
        use rayon::prelude::*;
        a.0.par_chunks_mut(a.1)
            .zip(b.0.par_chunks_mut(b.1))
            .enumerate()
            .for_each_init(init, |s, (i, (x, y))| f(s, i, x, y));
    }
    #[cfg(not(feature = "rayon"))]
    {
        let mut s = init();
        a.0.chunks_mut(a.1).zip(b.0.chunks_mut(b.1)).enumerate().for_each(|(i, (x, y))| f(&mut s, i, x, y));
    }
}

/// `(0..n).map(f).collect()`.
pub fn map<R: Send>(n: usize, f: impl Fn(usize) -> R + Sync + Send) -> Vec<R> {
    #[cfg(feature = "rayon")]
    {
        use rayon::prelude::*;
        (0..n).into_par_iter().map(f).collect()
    }
    #[cfg(not(feature = "rayon"))]
    {
        (0..n).map(f).collect()
    }
}
