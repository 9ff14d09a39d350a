// The stand-in upstream IdPs live in src/demo/ (the demo starts them too); tests use them from here.
export * from '../../../src/demo/upstream-idp.ts';
