/**
 * Intel's SGX Root CA (CN=Intel SGX Root CA, O=Intel Corporation, L=Santa Clara, ST=CA, C=US;
 * valid 2018-05-21 to 2049-12-31), pinned by the SHA-256 of its DER. It is the one root of every
 * PCK chain, TCB Signing chain and PCS CRL (Intel PCS API v4; https://certificates.trustedservices.intel.com/
 * Intel_SGX_Provisioning_Certification_RootCA.pem). The same bytes are embedded in every TDX quote.
 */
export const INTEL_SGX_ROOT_CA_SHA256 = '44a0196b2b99f889b8e149e95b807a350e7424964399e885a7cbb8ccfab674d3';
