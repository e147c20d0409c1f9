//! Named recipes: a whole set of training options under one name, given where a model preset's
//! name goes (`vanillanet train --preset best`). Options given beside the name still win, so a
//! recipe is a starting point, not a lock. Each was chosen on the validation split
//! (docs/recipe.md says what it measured).

use crate::error::{Error, Result};
use crate::model::config::Shortcut;
use crate::train::lr::LrShape;
use crate::train::options::TrainOptions;

/// A recipe: its name, what it is for, and its options.
pub struct Recipe {
    pub name: &'static str,
    pub summary: &'static str,
    pub options: fn() -> TrainOptions,
}

pub const RECIPES: [Recipe; 1] = [Recipe {
    name: "best",
    summary: "the short-budget recipe for 28 px data: wide_28 for 8 epochs, lambda over 2, then fused and continued; one-cycle, the mirror, the average over the last epoch",
    options: best,
}];

/// Chosen on the validation split of Fashion-MNIST (docs/recipe.md, "The short-budget recipe").
fn best() -> TrainOptions {
    TrainOptions {
        preset: "wide_28".into(),
        shortcut: Shortcut::None,
        epochs: 8,
        decay_epochs: 2,
        fuse_and_continue: true,
        batch_size: 64,
        learning_rate: 4e-3,
        lr_schedule: LrShape::OneCycle,
        warmup_epochs: 0.5,
        crop_padding: 0,
        label_smoothing: 0.1,
        ema_epochs: 1.0,
        ..TrainOptions::default()
    }
}

/// The options of recipe `name`, if it is one.
pub fn recipe(name: &str) -> Option<TrainOptions> {
    RECIPES.iter().find(|r| r.name == name).map(|r| (r.options)())
}

/// `recipe` with the options named in `given` (by their field names, snake or camel case) taken
/// from `chosen`: what the user said beside the recipe's name.
pub fn with_given(recipe: TrainOptions, chosen: &TrainOptions, given: &[String]) -> Result<TrainOptions> {
    let encode = |o: &TrainOptions| serde_json::to_value(o).map_err(|e| Error::InvalidInput(format!("options: {e}")));
    let (mut out, chosen) = (encode(&recipe)?, encode(chosen)?);
    for name in given {
        let key = camel_case(name);
        match (out.get_mut(&key), chosen.get(&key)) {
            (Some(slot), Some(value)) => *slot = value.clone(),
            _ => return Err(Error::InvalidInput(format!("'{name}' is not a training option"))),
        }
    }
    serde_json::from_value(out).map_err(|e| Error::InvalidInput(format!("options: {e}")))
}

fn camel_case(name: &str) -> String {
    let mut out = String::with_capacity(name.len());
    let mut upper = false;
    for c in name.chars() {
        match (c, upper) {
            ('_' | '-', _) => upper = true,
            (c, true) => {
                out.push(c.to_ascii_uppercase());
                upper = false;
            }
            (c, false) => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::data::dataset::{Dataset, Split};

    #[test]
    fn a_recipe_is_valid_options_and_what_is_given_beside_it_wins() {
        let data = Dataset::new(
            "d",
            (0..10).map(|c| c.to_string()).collect(),
            [1, 28, 28],
            Split { pixels: vec![0; 784], labels: vec![0] },
            Split::default(),
        )
        .unwrap();
        for r in RECIPES {
            let options = (r.options)();
            options.check(&data).unwrap_or_else(|e| panic!("{}: {}", r.name, e.message));
            assert_ne!(options.preset, r.name, "a recipe names a model, not itself");
        }
        let best = recipe("best").unwrap();
        let chosen = TrainOptions { seed: 3, epochs: 2, learning_rate: 1e-3, ..TrainOptions::default() };
        let given = ["seed".to_string(), "learning_rate".to_string()];
        let out = with_given(best.clone(), &chosen, &given).unwrap();
        assert_eq!((out.seed, out.learning_rate, out.epochs), (3, 1e-3, best.epochs), "only what was given");
        assert!(with_given(best, &chosen, &["bogus".into()]).unwrap_err().to_string().contains("'bogus'"));
        assert!(recipe("fine_wide_28").is_none());
    }
}
