export { lambdaContext } from '../../sandbox/lambda-context';
