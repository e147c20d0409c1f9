//! Reading results back from a device, and what is done with them on the host. Every read is
//! awaited: a synchronous read panics on WebGPU in the browser.

use burn::tensor::Tensor;

use crate::error::{Error, Result};

/// A tensor's values on the host, as f32.
pub async fn read_vec(t: Tensor<1>) -> Result<Vec<f32>> {
    let data = t.into_data_async().await.map_err(|e| Error::Readback(format!("{e:?}")))?;
    data.convert::<f32>().try_into_vec::<f32>().map_err(|e| Error::Readback(format!("{e:?}")))
}

/// The first value of a tensor (NaN when it is empty).
pub async fn read_f32(t: Tensor<1>) -> Result<f32> {
    Ok(read_vec(t).await?.first().copied().unwrap_or(f32::NAN))
}

/// Indices of the `k` largest values, largest first (NaN sorts below every number).
pub fn top_k(values: &[f32], k: usize) -> Vec<usize> {
    let key = |v: f32| if v.is_nan() { f32::NEG_INFINITY } else { v };
    let mut order: Vec<usize> = (0..values.len()).collect();
    order.sort_by(|&a, &b| key(values[b]).total_cmp(&key(values[a])).then(a.cmp(&b)));
    order.truncate(k);
    order
}

/// Index of the largest value (the first of equals; 0 for an empty slice).
pub fn argmax(values: &[f32]) -> usize {
    top_k(values, 1).first().copied().unwrap_or(0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn top_k_orders_largest_first_and_keeps_ties_in_index_order() {
        assert_eq!(top_k(&[0.1, 0.7, 0.2, 0.7], 3), vec![1, 3, 2]);
        assert_eq!(top_k(&[3.0, 1.0], 5), vec![0, 1], "k above the length gives them all");
        assert!(top_k(&[], 2).is_empty());
    }

    #[test]
    fn nan_never_wins() {
        assert_eq!(top_k(&[f32::NAN, 0.2, -1.0], 2), vec![1, 2]);
        assert_eq!(argmax(&[f32::NAN, -3.0]), 1);
        assert_eq!(argmax(&[]), 0);
    }
}
