//! What the kernels' tests share: deterministic values and a gradient checked against central
//! finite differences of a loss.

/// `len` values in [-1, 1) from an LCG seeded with `seed`.
pub fn values(len: usize, seed: u64) -> Vec<f64> {
    let mut state = seed.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
    (0..len)
        .map(|_| {
            state = state.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
            ((state >> 33) as f64 / (1u64 << 31) as f64) * 2.0 - 1.0
        })
        .collect()
}

/// Each `analytic[i]` against `(loss(v + h e_i) - loss(v - h e_i)) / 2h` (h = 1e-6), within
/// `tolerance(numeric)`.
pub fn assert_gradient(
    name: &str,
    v: &[f64],
    analytic: &[f64],
    loss: &dyn Fn(&[f64]) -> f64,
    tolerance: impl Fn(f64) -> f64,
) {
    let h = 1e-6;
    for i in 0..v.len() {
        let (mut up, mut down) = (v.to_vec(), v.to_vec());
        up[i] += h;
        down[i] -= h;
        let d = (loss(&up) - loss(&down)) / (2.0 * h);
        assert!((d - analytic[i]).abs() < tolerance(d), "{name}[{i}]: {d} against {}", analytic[i]);
    }
}
