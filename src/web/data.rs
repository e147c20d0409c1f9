//! The data's calls: a built-in dataset or the user's own images, samples for thumbnails, a test
//! image, an image file decoded as own images are.

use tsify::Ts;
use wasm_bindgen::prelude::*;

use super::{Session, err, js};
use crate::data::dataset::Dataset;
use crate::data::preprocess::{Normalize, Preprocess, decode};
use crate::session::DataSummary;

#[wasm_bindgen]
impl Session {
    /// A built-in dataset file (the `VNDS` format of `scripts/build-data.mjs`). Drops the
    /// trainer. Answers the data's summary.
    #[wasm_bindgen(js_name = loadDataset)]
    pub fn load_dataset(&mut self, name: String, bytes: &[u8]) -> Result<Ts<DataSummary>, JsError> {
        js(&self.inner.set_data(Dataset::from_bytes(name, bytes).map_err(err)?))
    }

    /// The user's own images, already decoded and resized to `channels x height x width` bytes,
    /// concatenated; one label each. Every fifth image of each class is held out for testing.
    #[wasm_bindgen(js_name = ownDataset)]
    pub fn own_dataset(
        &mut self,
        classes: Vec<String>,
        pixels: &[u8],
        labels: &[u8],
        channels: usize,
        height: usize,
        width: usize,
    ) -> Result<Ts<DataSummary>, JsError> {
        let data = Dataset::labelled("own images", classes, [channels, height, width], pixels, labels).map_err(err)?;
        js(&self.inner.set_data(data))
    }

    /// Up to `per_class` training images of each class, for thumbnails.
    #[wasm_bindgen(unchecked_return_type = "{ pixels: Uint8Array; labels: Uint8Array }")]
    pub fn samples(&self, per_class: usize) -> Result<JsValue, JsError> {
        let (pixels, labels) = self.inner.data().map_err(err)?.samples(per_class);
        let out = js_sys::Object::new();
        let set = |k: &str, v: &[u8]| js_sys::Reflect::set(&out, &k.into(), &js_sys::Uint8Array::from(v));
        set("pixels", &pixels).and(set("labels", &labels)).map_err(|_| err("cannot build the samples object"))?;
        Ok(out.into())
    }

    /// Test image `index` as its pixels (`channels x height x width` bytes, CHW).
    #[wasm_bindgen(js_name = testImage)]
    pub fn test_image(&self, index: usize) -> Result<Vec<u8>, JsError> {
        Ok(self.inner.data().map_err(err)?.test_image(index).map_err(err)?.to_vec())
    }

    /// Pixels (`channels x height x width` bytes, CHW) of an image file as the page's own
    /// training images are made: centre crop, resize.
    #[wasm_bindgen(js_name = decodeImage)]
    pub fn decode_image(bytes: &[u8], channels: usize, height: usize, width: usize) -> Result<Vec<u8>, JsError> {
        // Checked before anything is allocated by `channels`: the normalization holds one value
        // a channel, and a count past 3 is refused by `validate` (naming the channels) before
        // the normalization is looked at.
        let p = Preprocess::center_crop(channels, height, width, Normalize::identity(channels.min(3)));
        p.validate().map_err(err)?;
        Ok(p.pixels(&decode(bytes).map_err(err)?))
    }
}
