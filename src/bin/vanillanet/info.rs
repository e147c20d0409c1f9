//! `vanillanet info`: an architecture's feature-map sizes, parameters and multiply-accumulates,
//! training and deploy form. Computes nothing on a device.

use vanillanet::Result;

use crate::args::InfoArgs;

pub fn run(args: InfoArgs) -> Result<()> {
    let InfoArgs { arch, size } = args;
    let config = arch.config()?;
    let sizes = config.feature_sizes(size, size)?;
    println!(
        "dims {:?} strides {:?} act_num {} in_chans {} classes {}",
        config.dims, config.strides, config.act_num, config.in_chans, config.num_classes
    );
    println!(
        "feature maps at {size}x{size}: {}",
        sizes.iter().map(|(h, w)| format!("{h}x{w}")).collect::<Vec<_>>().join(" -> ")
    );
    println!("training form: {:>13} params {:>16} MACs", config.params_train(), config.macs(size, size, false)?);
    println!("deploy form:   {:>13} params {:>16} MACs", config.params_deploy(), config.macs(size, size, true)?);
    Ok(())
}
