// Node flags for the long-running dashboard (`paude ui`), which bin/paude.js starts it with and
// bench/p5-dashboard.ts measures it with. A young generation of at most 4 MB per semi-space
// (instead of up to 16): the dashboard allocates fast (5,000 events a second, a frame every
// 100 ms) and V8 would keep the grown space resident for good, ~25 MB of RSS, for no speed
// that shows (measured by P5).
export const UI_NODE_FLAGS = ['--max-semi-space-size=4'];
