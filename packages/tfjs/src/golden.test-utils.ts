// The golden data helpers now live in @dcem/core/testing (shared by every
// backend's golden tests); re-exported here for this package's tests.
export { EPS32, flat, loadGolden, maxAbs, maxDiff } from '@dcem/core/testing';
