// tests/onnx/compare_onnxruntime.js: ONNX Runtime predicts what lamina
// predicts, for every model onnx_export_networks wrote (ctest -L onnx).
//
//   node compare_onnxruntime.js DIR [TOLERANCE]
//
// For each entry of DIR/manifest.json: NAME.onnx run by onnxruntime-node
// (CPU, one thread) on NAME.input.f32 must give NAME.expected.f32 (lamina's
// predict) to within TOLERANCE (default 1e-5) in every element. Exits 77
// (ctest: skipped), saying so, where onnxruntime-node cannot be loaded:
// scripts/install-deps.sh --with-onnx installs it into .onnxruntime/, which
// the test puts on NODE_PATH.
'use strict';
const fs = require('fs');
const path = require('path');

let ort;
try {
    ort = require('onnxruntime-node');
} catch (e) {
    console.log('skipped: onnxruntime-node is not installed (scripts/install-deps.sh --with-onnx puts it in ' +
                '.onnxruntime/; NODE_PATH=' + (process.env.NODE_PATH || '') + '): ' + e.message.split('\n')[0]);
    process.exit(77);
}

function readFloats(file) {
    const bytes = fs.readFileSync(file);
    return new Float32Array(bytes.buffer, bytes.byteOffset, bytes.length / 4);
}

async function main() {
    const dir = process.argv[2];
    const tolerance = Number(process.argv[3] || '1e-5');
    const entries = JSON.parse(fs.readFileSync(path.join(dir, 'manifest.json'), 'utf8'));
    let failures = 0;
    let worst = 0;
    for (const e of entries) {
        const session = await ort.InferenceSession.create(path.join(dir, e.name + '.onnx'),
                                                          {intraOpNumThreads: 1, interOpNumThreads: 1});
        const x = new ort.Tensor('float32', readFloats(path.join(dir, e.name + '.input.f32')), e.input_shape);
        const result = await session.run({[session.inputNames[0]]: x});
        const y = result[session.outputNames[0]];
        const expected = readFloats(path.join(dir, e.name + '.expected.f32'));
        const shapeOk = JSON.stringify(Array.from(y.dims)) === JSON.stringify(e.output_shape);
        let maxError = shapeOk ? 0 : Infinity;
        if (shapeOk)
            for (let i = 0; i < expected.length; ++i) {
                const d = Math.abs(y.data[i] - expected[i]);
                if (!(d <= maxError)) maxError = d;  // NaN counts as failing
            }
        const ok = maxError <= tolerance;
        if (!ok) ++failures;
        worst = Math.max(worst, maxError);
        console.log((ok ? 'ok   ' : 'FAIL ') + e.name + ': output ' + JSON.stringify(Array.from(y.dims)) +
                    ', max abs error ' + maxError.toExponential(2) + ' (tolerance ' + tolerance + ')');
    }
    console.log((entries.length - failures) + ' of ' + entries.length + ' models agree with lamina; ' +
                'max abs error ' + worst.toExponential(2) + ' (onnxruntime-node ' + ort.env.versions.common + ')');
    process.exit(failures || entries.length === 0 ? 1 : 0);
}

main().catch((e) => {
    console.error('error: ' + e.message);
    process.exit(1);
});
