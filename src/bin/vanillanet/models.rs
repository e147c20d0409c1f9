//! `vanillanet models`: the named models, what each is, and its widths and strides.

use vanillanet::NAMED_MODELS;

pub fn run() {
    for m in NAMED_MODELS {
        let c = (m.config)();
        println!("{:<28} {:<55} dims {:?} strides {:?}", m.name, m.description, c.dims, c.strides);
    }
}
