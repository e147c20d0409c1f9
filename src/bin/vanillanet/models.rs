//! `vanillanet models`: the named models, what each is, and its widths and strides; then the
//! named recipes `train --preset` also takes.

use vanillanet::NAMED_MODELS;
use vanillanet::train::recipes::RECIPES;

pub fn run() {
    for m in NAMED_MODELS {
        let c = (m.config)();
        println!("{:<28} {:<55} dims {:?} strides {:?}", m.name, m.description, c.dims, c.strides);
    }
    println!("\nrecipes (train --preset NAME: the whole set of options, those given beside it win):");
    for r in RECIPES {
        let o = (r.options)();
        println!("{:<28} {} ({}, {} epochs)", r.name, r.summary, o.preset, o.epochs);
    }
}
