//! The fused (deploy) form as an ONNX model (opset 13), so it runs anywhere ONNX does: the
//! weights keep their official names as initializers, the batch dimension is free.

use onnx_protobuf::{
    AttributeProto, GraphProto, Message, ModelProto, NodeProto, OperatorSetIdProto, StringStringEntryProto,
    TensorProto, TensorShapeProto, TypeProto, ValueInfoProto,
    attribute_proto::AttributeType,
    tensor_shape_proto::{Dimension, dimension},
    type_proto,
};

use crate::error::{Error, Result};
use crate::io::card::{CARD_KEY, ModelCard};
use crate::io::names::state_dict_async;
use crate::model::VanillaNetDeploy;
use crate::model::config::{Shortcut, VanillaNetConfig};

const FLOAT: i32 = 1;

fn ints(name: &str, values: &[usize]) -> AttributeProto {
    AttributeProto {
        name: name.into(),
        type_: AttributeType::INTS.into(),
        ints: values.iter().map(|&v| v as i64).collect(),
        ..Default::default()
    }
}

fn int(name: &str, value: usize) -> AttributeProto {
    AttributeProto { name: name.into(), type_: AttributeType::INT.into(), i: value as i64, ..Default::default() }
}

fn value_info(name: &str, dims: &[Option<usize>]) -> ValueInfoProto {
    let dim = dims
        .iter()
        .map(|d| Dimension {
            value: Some(match d {
                Some(v) => dimension::Value::DimValue(*v as i64),
                None => dimension::Value::DimParam("batch".into()),
            }),
            ..Default::default()
        })
        .collect();
    let tensor = type_proto::Tensor {
        elem_type: FLOAT,
        shape: Some(TensorShapeProto { dim, ..Default::default() }).into(),
        ..Default::default()
    };
    ValueInfoProto {
        name: name.into(),
        type_: Some(TypeProto { value: Some(type_proto::Value::TensorType(tensor)), ..Default::default() }).into(),
        ..Default::default()
    }
}

/// The graph, node by node; each op's output is the next op's input.
struct Graph {
    nodes: Vec<NodeProto>,
    last: String,
}

impl Graph {
    fn op(&mut self, op_type: &str, extra_inputs: &[String], attribute: Vec<AttributeProto>) {
        let output = format!("{}_{}", op_type.to_lowercase(), self.nodes.len());
        let mut input = vec![self.last.clone()];
        input.extend_from_slice(extra_inputs);
        self.nodes.push(NodeProto {
            name: output.clone(),
            op_type: op_type.into(),
            input,
            output: vec![output.clone()],
            attribute,
            ..Default::default()
        });
        self.last = output;
    }

    /// Conv with the official `{prefix}.weight` and `{prefix}.bias`.
    fn conv(&mut self, prefix: &str, kernel: usize, stride: usize, pad: usize, group: usize) {
        let attrs = vec![
            ints("kernel_shape", &[kernel, kernel]),
            ints("strides", &[stride, stride]),
            ints("pads", &[pad, pad, pad, pad]),
            int("group", group),
        ];
        self.op("Conv", &[format!("{prefix}.weight"), format!("{prefix}.bias")], attrs);
    }

    /// ReLU, then the depthwise conv of the series activation.
    fn activation(&mut self, prefix: &str, dim: usize, act_num: usize) {
        self.op("Relu", &[], vec![]);
        if act_num > 0 {
            self.conv(prefix, 2 * act_num + 1, 1, act_num, dim);
        }
    }
}

/// Why a net of this architecture has no ONNX export, or none when it has.
pub fn unsupported(a: &VanillaNetConfig) -> Option<String> {
    if a.ada_pool.is_some() {
        return Some(
            "adaptive max pooling (the _ada_pool variant) has no ONNX operator with PyTorch's uneven windows".into(),
        );
    }
    (a.shortcut != Shortcut::None).then(|| {
        "this net has shortcuts around its blocks (an ablation model): the ONNX export writes VanillaNet's plain chain only".into()
    })
}

/// A fused net as ONNX bytes: input `input` `[batch, channels, height, width]` (preprocessed
/// as its card says, which the model's metadata carries), output `logits` `[batch, classes]`.
pub async fn export(card: &ModelCard, model: &VanillaNetDeploy) -> Result<Vec<u8>> {
    let a = &card.architecture;
    if let Some(reason) = unsupported(a) {
        return Err(Error::InvalidConfig(reason));
    }
    let mut g = Graph { nodes: Vec::new(), last: "input".into() };
    let (stride, pad) = a.stem_stride_padding();
    g.conv("stem.0", 4, stride, pad, 1);
    g.activation("stem.1", a.dims[0], a.act_num);
    for (i, &s) in a.strides.iter().enumerate() {
        g.conv(&format!("stages.{i}.conv"), 1, 1, 0, 1);
        if s > 1 {
            // PyTorch's MaxPool2d(s) floors like ONNX's default.
            g.op("MaxPool", &[], vec![ints("kernel_shape", &[s, s]), ints("strides", &[s, s])]);
        }
        g.activation(&format!("stages.{i}.act"), a.dims[i + 1], a.act_num);
    }
    g.op("GlobalAveragePool", &[], vec![]);
    g.conv("cls.2", 1, 1, 0, 1);
    g.op("Flatten", &[], vec![int("axis", 1)]);
    g.nodes.last_mut().expect("nodes").output = vec!["logits".into()];

    let sd = state_dict_async(model).await?;
    let initializer = sd
        .tensors
        .iter()
        .map(|(name, t)| TensorProto {
            name: name.clone(),
            dims: t.shape.iter().map(|&d| d as i64).collect(),
            data_type: FLOAT,
            raw_data: t.data.iter().flat_map(|v| v.to_le_bytes()).collect(),
            ..Default::default()
        })
        .collect();
    let p = &card.preprocess;
    let graph = GraphProto {
        name: card.name.clone(),
        node: g.nodes,
        initializer,
        input: vec![value_info("input", &[None, Some(p.channels), Some(p.height), Some(p.width)])],
        output: vec![value_info("logits", &[None, Some(a.num_classes)])],
        ..Default::default()
    };
    let card_json = card.to_json()?;
    let model = ModelProto {
        ir_version: 7,
        opset_import: vec![OperatorSetIdProto { domain: String::new(), version: 13, ..Default::default() }],
        producer_name: "vanillanet".into(),
        producer_version: env!("CARGO_PKG_VERSION").into(),
        doc_string: format!("{}: VanillaNet deploy form", card.name),
        graph: Some(graph).into(),
        metadata_props: vec![StringStringEntryProto { key: CARD_KEY.into(), value: card_json, ..Default::default() }],
        ..Default::default()
    };
    model.write_to_bytes().map_err(|e| Error::encode("ONNX", e))
}
