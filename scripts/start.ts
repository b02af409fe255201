/**
 * `npm start`: for now the verifier and its CLI are what exist; the gateway and the services
 * arrive with their issues. This prints what is here and how to use it, and succeeds.
 */
const lines = [
  'Sealgate — confidential-AI gateway (development build)',
  '',
  'Available now: the AMD SEV-SNP verifier, the manifest, and the CLI:',
  '  npm run --silent sealgate -- verify --report FILE --cert FILE [--chain FILE] --manifest FILE --role ROLE',
  '  npm run --silent sealgate -- manifest pin --report FILE --cert FILE [--chain FILE] --role ROLE',
  '  npm run --silent sealgate -- manifest digest FILE',
  '  npm run --silent sealgate -- manifest check FILE',
  '  npm run --silent sealgate -- help',
  '',
  'See README.md for the quick start.',
];
process.stdout.write(`${lines.join('\n')}\n`);
