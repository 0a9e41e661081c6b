export { authorize, denial, deniedCode, type Decision, type DeniedCode } from './authorize';
export { asList, parsePolicy, PolicyError, type PolicyDocument, type Statement } from './policy';
export { resourcesFor, type RamProduct, type RequestScope } from './resources';
