// Runs TF.js graph models with @tensorflow/tfjs's pure-JavaScript CPU backend
// on the inputs written by //mapn/tfjs:make_golden_inputs and writes the
// golden file the C++ parity test compares against (docs/models.md).
//
//   node run.js MODEL_DIR INPUT_DIR OUT_JSON [MODEL...]
//
// For each input it records the input's FNV-1a hash (computed here, over the
// bytes read) and, for every signature output, its shape and values; large
// outputs are subsampled with a fixed stride (every stride-th value of the
// flattened tensor), small ones (<= 512 values) are kept whole.
'use strict';
const fs = require('fs');
const path = require('path');
const tf = require('@tensorflow/tfjs');

const kMaxValues = 512;

function fnv1a64(buf) {
  let v = 0xcbf29ce484222325n;
  const prime = 0x100000001b3n;
  const mask = 0xffffffffffffffffn;
  for (const byte of buf) v = ((v ^ BigInt(byte)) * prime) & mask;
  return v.toString(16).padStart(16, '0');
}

async function loadModel(modelDir, name) {
  const json = JSON.parse(fs.readFileSync(path.join(modelDir, name + '.json')));
  const specs = [];
  const buffers = [];
  for (const group of json.weightsManifest) {
    specs.push(...group.weights);
    for (const p of group.paths) buffers.push(fs.readFileSync(path.join(modelDir, p)));
  }
  const all = Buffer.concat(buffers);
  const weightData = all.buffer.slice(all.byteOffset, all.byteOffset + all.byteLength);
  const model = await tf.loadGraphModel(tf.io.fromMemory({
    modelTopology: json.modelTopology, weightSpecs: specs, weightData,
    format: json.format, generatedBy: json.generatedBy,
    convertedBy: json.convertedBy, signature: json.signature,
  }));
  const outputs = Object.values(json.signature.outputs).map((o) => o.name);
  return {model, outputs};
}

async function main() {
  const [modelDir, inputDir, outJson, ...only] = process.argv.slice(2);
  if (!outJson) {
    console.error('usage: node run.js MODEL_DIR INPUT_DIR OUT_JSON [MODEL...]');
    process.exit(2);
  }
  await tf.setBackend('cpu');
  const inputs = JSON.parse(fs.readFileSync(path.join(inputDir, 'inputs.json')));
  const golden = {
    generator: 'tools/tfjs_golden/run.js',
    tfjs_version: tf.version.tfjs,
    backend: tf.getBackend(),
    entries: [],
  };
  const models = {};
  for (const entry of inputs) {
    if (only.length && !only.includes(entry.model)) continue;
    if (!models[entry.model]) models[entry.model] = await loadModel(modelDir, entry.model);
    const {model, outputs} = models[entry.model];
    const bytes = fs.readFileSync(path.join(inputDir, entry.file));
    const hash = fnv1a64(bytes);
    if (hash !== entry.fnv1a64) throw new Error(`${entry.file}: hash ${hash} != ${entry.fnv1a64}`);
    const ab = bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength);
    const data = entry.dtype === 'int32' ? new Int32Array(ab) : new Float32Array(ab);
    const x = tf.tensor(data, entry.shape, entry.dtype);
    const start = Date.now();
    let ys = model.execute(x, outputs);
    if (!Array.isArray(ys)) ys = [ys];
    const out = [];
    for (let i = 0; i < ys.length; ++i) {
      const values = Array.from(await ys[i].data());
      const stride = Math.max(1, Math.ceil(values.length / kMaxValues));
      out.push({
        name: outputs[i], shape: ys[i].shape, stride,
        values: values.filter((_, k) => k % stride === 0).map((v) => Number(v.toPrecision(9))),
      });
      ys[i].dispose();
    }
    x.dispose();
    console.error(`${entry.model} ${entry.frame}: ${Date.now() - start} ms`);
    golden.entries.push({model: entry.model, frame: entry.frame, input_dtype: entry.dtype,
      input_shape: entry.shape, input_fnv1a64: hash, outputs: out});
  }
  fs.writeFileSync(outJson, JSON.stringify(golden) + '\n');
}

main().catch((e) => { console.error(e); process.exit(1); });
