/** The TDX bit-flip suite (bit-flips-suite.ts) on the node:crypto backend: it must reject every flip too. */
import { createNodeSignatureBackend } from '../../../src/platform/node-signature-backend.js';
import { bitFlipSuite } from './bit-flips-suite.js';

bitFlipSuite('node:crypto', createNodeSignatureBackend());
