// spacesmith gallery viewer: three.js + Spark 2.x.
//
// Input model (documented in the README's gallery section):
// - wheel / trackpad scroll switches monument (one switch per gesture);
//   ctrl+wheel, which is also what a trackpad pinch sends, zooms within limits;
// - arrow keys, PageUp/PageDown, Home/End and the on-screen buttons switch monument;
// - a quick horizontal one-finger swipe switches; a slow drag orbits; two fingers pinch-zoom;
// - mouse drag orbits (OrbitControls); auto-rotate starts after `idle_s` without input.
// prefers-reduced-motion: no auto-rotate and no camera flight (a short cross-fade only).
// `#item=N` in the URL (from 1) opens item N; the URL follows the item on screen.
//
// window.__gallery is a read-only view of the state for tests and embedders:
// {index, count, title, ready, transitioning, error, firstDrawMs, switches}.

import * as THREE from "three";
import { OrbitControls } from "three/addons/controls/OrbitControls.js";
import { SparkRenderer, SplatMesh } from "@sparkjsdev/spark";

const data = JSON.parse(document.getElementById("gallery-data").textContent);
const items = data.items;
const settings = data.viewer;
const reducedMotion = window.matchMedia("(prefers-reduced-motion: reduce)");

const $ = (id) => document.getElementById(id);
const ui = {
  stage: $("stage"), canvas: $("view"), title: $("item-title"), caption: $("item-caption"),
  captionBox: document.querySelector(".caption"), counter: $("counter"), prev: $("prev"),
  next: $("next"), loading: $("loading"), bar: $("loading-bar"), loadingText: $("loading-text"),
  error: $("error"),
};

const state = {
  index: -1, count: items.length, title: "", ready: false, transitioning: false,
  error: null, firstDrawMs: null, switches: 0,
};
window.__gallery = new Proxy(state, {
  set() { return false; }, deleteProperty() { return false; },
});

// ---- three + Spark -------------------------------------------------------------------------
const renderer = new THREE.WebGLRenderer({ canvas: ui.canvas, antialias: false, alpha: false });
// splats are fill-rate bound: beyond 1.5 device pixels per CSS pixel costs more than it shows
renderer.setPixelRatio(Math.min(window.devicePixelRatio || 1, 1.5));
const scene = new THREE.Scene();
scene.background = new THREE.Color(settings.background);
const camera = new THREE.PerspectiveCamera(50, 1, 0.01, 100);
// Frames are drawn on demand (camera moved, flight, fade, Spark finished a sort): an idle
// gallery costs nothing, which matters on phones and in software-rendered browsers.
let dirty = true;
const invalidate = () => { dirty = true; };
// Spark sorts splats in a worker and asks for a redraw when a sort lands: a switch is only
// on screen once that has happened (until then the old sort, the old monument, is drawn).
let sparkRedraws = 0;
const spark = new SparkRenderer({ renderer, onDirty: () => { sparkRedraws += 1; invalidate(); } });
scene.add(spark); // Spark 2.x draws nothing unless its renderer is in the scene

const controls = new OrbitControls(camera, ui.canvas);
controls.enableDamping = true;
controls.dampingFactor = 0.08;
controls.enablePan = false;
controls.autoRotateSpeed = settings.auto_rotate_speed;

function resize() {
  const { clientWidth: w, clientHeight: h } = ui.stage;
  renderer.setSize(w, h, false);
  camera.aspect = w / Math.max(h, 1);
  camera.updateProjectionMatrix();
  invalidate();
}
window.addEventListener("resize", resize);
resize();

// ---- loading: fetch with progress, cache, preload the next ---------------------------------
const bytesCache = new Map();

function fetchBytes(i, onProgress) {
  if (!bytesCache.has(i)) {
    const promise = (async () => {
      const response = await fetch(items[i].splat);
      if (!response.ok) throw new Error(`${items[i].splat}: HTTP ${response.status}`);
      const total = Number(response.headers.get("content-length")) || items[i].bytes || 0;
      const reader = response.body.getReader();
      const chunks = [];
      let received = 0;
      for (;;) {
        const { done, value } = await reader.read();
        if (done) break;
        chunks.push(value);
        received += value.length;
        if (entry.onProgress) entry.onProgress(received, total);
      }
      const out = new Uint8Array(received);
      let offset = 0;
      for (const chunk of chunks) { out.set(chunk, offset); offset += chunk.length; }
      return out;
    })();
    const entry = { promise, onProgress: null };
    bytesCache.set(i, entry);
    promise.catch(() => bytesCache.delete(i));
  }
  const entry = bytesCache.get(i);
  entry.onProgress = onProgress;
  return entry.promise;
}

function showProgress(received, total) {
  const pct = total > 0 ? Math.min(100, Math.round((100 * received) / total)) : 0;
  ui.bar.style.width = `${pct}%`;
  ui.loading.setAttribute("aria-valuenow", String(pct));
  ui.loadingText.textContent = total > 0 ? `Loading… ${pct}%` : "Loading…";
}

function setLoading(on) {
  ui.loading.classList.toggle("done", !on);
  if (on) showProgress(0, 0);
}

async function makeMesh(i) {
  const bytes = await fetchBytes(i, (r, t) => { if (i === pending) showProgress(r, t); });
  const name = items[i].splat.split("/").pop();
  const mesh = new SplatMesh({ fileBytes: bytes, fileName: name });
  await mesh.initialized;
  return mesh;
}

function preload(i) {
  if (items.length > 1) fetchBytes(i, null).catch(() => {});
}

// ---- camera flight ---------------------------------------------------------------------------
const ease = (t) => (t < 0.5 ? 4 * t * t * t : 1 - Math.pow(-2 * t + 2, 3) / 2);
const vec = (a) => new THREE.Vector3(a[0], a[1], a[2]);

function applyLimits(cam) {
  const distance = vec(cam.position).distanceTo(vec(cam.target));
  controls.minDistance = distance * 0.35;
  controls.maxDistance = distance * 2.5;
  camera.fov = cam.fov;
  camera.near = cam.near;
  camera.far = cam.far;
  camera.up.set(cam.up[0], cam.up[1], cam.up[2]);
  camera.updateProjectionMatrix();
}

// OrbitControls keeps damping momentum from the last drag (a swipe is a drag too); it must
// not carry the camera away from the monument's framing once a flight has landed.
function stopMomentum() {
  controls._sphericalDelta?.set(0, 0, 0);
  controls._panOffset?.set(0, 0, 0);
  if ("_scale" in controls) controls._scale = 1;
}

let flight = null; // {from, to, t0, duration, oldMesh, newMesh, resolve}

function stepFlight(now) {
  if (!flight) return;
  const f = flight;
  const t = f.duration > 0 ? Math.min(1, (now - f.t0) / f.duration) : 1;
  const k = ease(t);
  if (f.fly) {
    camera.position.lerpVectors(f.from.position, f.to.position, k);
    // lift the path a little so the camera travels rather than slides
    const lift = Math.sin(Math.PI * k) * f.lift;
    camera.position.y += lift;
    controls.target.lerpVectors(f.from.target, f.to.target, k);
  }
  if (f.oldMesh) f.oldMesh.opacity = 1 - Math.min(1, k * 1.6);
  f.newMesh.opacity = f.oldMesh ? Math.max(0, (k - 0.25) / 0.75) : Math.max(0.05, k);
  if (t >= 1) {
    camera.position.copy(f.to.position);
    controls.target.copy(f.to.target);
    stopMomentum();
    f.newMesh.opacity = 1;
    if (f.oldMesh) { scene.remove(f.oldMesh); f.oldMesh.dispose(); }
    flight = null;
    f.resolve();
  }
}

// ---- switching -------------------------------------------------------------------------------
let current = null; // the SplatMesh on screen
let pending = -1;   // the index being loaded
let queued = null;  // a switch requested while another is running

function setOverlay(i) {
  const item = items[i];
  ui.title.textContent = item.name; // textContent only: titles are data, never markup
  ui.caption.textContent = item.caption;
  ui.counter.textContent = `${i + 1} / ${items.length}`;
  document.title = `${item.name} · ${data.title}`;
  state.title = item.name;
}

async function show(i) {
  i = ((i % items.length) + items.length) % items.length;
  if (state.transitioning) { queued = i; return; }
  if (i === state.index) return;
  state.transitioning = true;
  state.ready = false;
  pending = i;
  ui.captionBox.classList.add("fading");
  setLoading(true);
  try {
    const mesh = await makeMesh(i);
    setLoading(false);
    mesh.opacity = 0;
    scene.add(mesh);
    drawnMesh ??= mesh;
    const cam = items[i].camera;
    applyLimits(cam);
    const first = current === null;
    const to = { position: vec(cam.position), target: vec(cam.target) };
    const from = { position: camera.position.clone(), target: controls.target.clone() };
    const reduce = reducedMotion.matches;
    if (first || reduce) { camera.position.copy(to.position); controls.target.copy(to.target); }
    stopMomentum();
    const duration = first ? (reduce ? 0 : 400) : (reduce ? 200 : settings.transition_s * 1000);
    const lift = 0.25 * to.position.distanceTo(to.target);
    await new Promise((resolve) => {
      flight = { from, to, t0: performance.now(), duration, oldMesh: current, newMesh: mesh,
        fly: !first && !reduce, lift, resolve };
    });
    await sparkRedraw(sparkRedraws, 2000);
    current = mesh;
    state.index = i;
    try { history.replaceState(null, "", `#item=${i + 1}`); } catch { /* a sandboxed frame */ }
    if (!first) state.switches += 1;
    setOverlay(i);
    ui.captionBox.classList.remove("fading");
    controls.update();
    preload((i + 1) % items.length);
  } catch (err) {
    state.error = String(err && err.message ? err.message : err);
    ui.error.textContent = `Could not load ${items[i].name}: ${state.error}`;
    ui.error.hidden = false;
    setLoading(false);
  } finally {
    state.transitioning = false;
    lastInput = performance.now();
    await nextFrames(2);
    state.ready = !queued && state.error === null;
    if (queued !== null) { const q = queued; queued = null; show(q); }
  }
}

// Resolves once Spark has asked for a redraw after ``seen`` (its sort of the new scene has
// landed), or after ``timeoutMs`` at most.
function sparkRedraw(seen, timeoutMs) {
  const t0 = performance.now();
  return new Promise((resolve) => {
    const tick = () => (sparkRedraws > seen || performance.now() - t0 > timeoutMs
      ? resolve() : requestAnimationFrame(tick));
    requestAnimationFrame(tick);
  });
}

function nextFrames(n) {
  return new Promise((resolve) => {
    const tick = () => (--n <= 0 ? resolve() : requestAnimationFrame(tick));
    requestAnimationFrame(tick);
  });
}

const go = (delta) => show((queued ?? (pending >= 0 ? pending : state.index)) + delta);

// ---- input -----------------------------------------------------------------------------------
let lastInput = performance.now();
const touched = () => { lastInput = performance.now(); controls.autoRotate = false; };
controls.addEventListener("start", touched);
controls.addEventListener("change", invalidate);

let wheelAccum = 0;
let wheelLockUntil = 0;
ui.stage.addEventListener("wheel", (event) => {
  touched();
  if (event.ctrlKey) return; // pinch / ctrl+wheel: let OrbitControls zoom within limits
  event.preventDefault();
  event.stopPropagation();
  const now = performance.now();
  if (now < wheelLockUntil) return;
  wheelAccum += event.deltaY || event.deltaX;
  if (Math.abs(wheelAccum) >= 40) {
    go(wheelAccum > 0 ? 1 : -1);
    wheelAccum = 0;
    wheelLockUntil = now + 700;
  }
}, { capture: true, passive: false });

window.addEventListener("keydown", (event) => {
  if (event.target instanceof HTMLButtonElement && (event.key === " " || event.key === "Enter")) return;
  const keys = { ArrowRight: 1, ArrowDown: 1, PageDown: 1, " ": 1, ArrowLeft: -1, ArrowUp: -1, PageUp: -1 };
  touched();
  if (event.key in keys) { event.preventDefault(); go(keys[event.key]); }
  else if (event.key === "Home") { event.preventDefault(); show(0); }
  else if (event.key === "End") { event.preventDefault(); show(items.length - 1); }
});

ui.prev.addEventListener("click", () => { touched(); go(-1); });
ui.next.addEventListener("click", () => { touched(); go(1); });
if (items.length < 2) { ui.prev.disabled = true; ui.next.disabled = true; }

const touches = new Map();
ui.stage.addEventListener("pointerdown", (event) => {
  touched();
  if (event.pointerType === "touch") touches.set(event.pointerId, { x: event.clientX, y: event.clientY, t: event.timeStamp });
}, { capture: true });
ui.stage.addEventListener("pointerup", (event) => {
  const start = touches.get(event.pointerId);
  const multi = touches.size > 1;
  touches.delete(event.pointerId);
  if (!start || multi) return;
  const dx = event.clientX - start.x;
  const dy = event.clientY - start.y;
  // event.timeStamp is when the finger moved, so a slow frame cannot turn a flick into a drag
  const quick = event.timeStamp - start.t < 500;
  if (quick && Math.abs(dx) > 60 && Math.abs(dx) > 1.5 * Math.abs(dy)) go(dx < 0 ? 1 : -1);
}, { capture: true });
ui.stage.addEventListener("pointercancel", (event) => touches.delete(event.pointerId), { capture: true });

// ---- the loop --------------------------------------------------------------------------------
let drawnMesh = null; // the first mesh put in the scene: firstDrawMs is its first rendered frame
renderer.setAnimationLoop((now) => {
  if (flight) { stepFlight(now); dirty = true; }
  const idle = now - lastInput > settings.idle_s * 1000;
  controls.autoRotate = idle && !flight && settings.auto_rotate_speed > 0 && !reducedMotion.matches;
  if (!flight && controls.update()) dirty = true;
  if (!dirty) return;
  dirty = false;
  renderer.render(scene, camera);
  if (drawnMesh !== null && state.firstDrawMs === null) state.firstDrawMs = Math.round(performance.now());
});

// #item=N (from 1) opens that item, and the URL follows the item on screen: a reload (the
// live preview after a chat turn) or a shared link shows the same monument.
function startIndex() {
  const found = /(?:^#|&)item=(\d+)/.exec(location.hash);
  const n = found ? Number(found[1]) - 1 : 0;
  return n >= 0 && n < items.length ? n : 0;
}

show(startIndex());
