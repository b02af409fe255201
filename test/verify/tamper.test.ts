/** The bit-flip suite (tamper-suite.ts) on WebCrypto, the default backend (Node and workerd). */
import { webCryptoSignatures } from '../../src/verify/signature-backend.js';
import { tamperSuite } from './tamper-suite.js';

tamperSuite('WebCrypto', webCryptoSignatures);
