/** The bit-flip suite (tamper-suite.ts) on the node:crypto backend: it must reject every flip too. */
import { createNodeSignatureBackend } from '../../src/platform/node-signature-backend.js';
import { tamperSuite } from './tamper-suite.js';

tamperSuite('node:crypto', createNodeSignatureBackend());
