/** The TDX bit-flip suite (bit-flips-suite.ts) on WebCrypto, the default backend (Node and workerd). */
import { webCryptoSignatures } from '../../../src/verify/signature-backend.js';
import { bitFlipSuite } from './bit-flips-suite.js';

bitFlipSuite('WebCrypto', webCryptoSignatures);
