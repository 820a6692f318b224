// Load a .ksplat with GaussianSplats3D's own KSplatLoader and print what it decodes as JSON:
// {count, shDegree, centers, scales, rotations (w,x,y,z), colors (RGBA 0-255), sh (floats)}.
// Usage: node read_ksplat.mjs IN.ksplat OUT.json
import * as fs from 'node:fs';

globalThis.window = globalThis;
const GS = await import('@mkkellogg/gaussian-splats-3d');
const THREE = await import('three');

const [input, output] = process.argv.slice(2);
const bytes = fs.readFileSync(input);
const data = bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength);
const buffer = await GS.KSplatLoader.loadFromFileData(data);
const n = buffer.getSplatCount();
const shDegree = buffer.getMinSphericalHarmonicsDegree();
const centers = new Float32Array(n * 3);
buffer.fillSplatCenterArray(centers);
const scales = [];
const rotations = [];
const colors = [];
const s = new THREE.Vector3();
const q = new THREE.Quaternion();
const c = new THREE.Vector4();
for (let i = 0; i < n; i++) {
  buffer.getSplatScaleAndRotation(i, s, q);
  scales.push(s.x, s.y, s.z);
  rotations.push(q.w, q.x, q.y, q.z);
  buffer.getSplatColor(i, c);
  colors.push(c.x, c.y, c.z, c.w);
}
let sh = [];
if (shDegree > 0) {
  const per = shDegree === 1 ? 9 : 24;
  const out = new Float32Array(n * per);
  // an identity transform makes the loader decode every level to floats
  buffer.fillSphericalHarmonicsArray(out, shDegree, new THREE.Matrix4(), 0, n - 1, 0, 0);
  sh = Array.from(out);
}
fs.writeFileSync(output, JSON.stringify({
  count: n, shDegree, compressionLevel: buffer.compressionLevel,
  centers: Array.from(centers), scales, rotations, colors, sh,
}));
