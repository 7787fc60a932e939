import { execFile } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { freePort, startDtf, type DtfProcess } from '../support/dtf-process';

const root = path.resolve(__dirname, '../..');
const buf = path.join(root, 'node_modules/.bin/buf');

describe('every gRPC port', () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'dtf-grpc-'));
  let coordinator: DtfProcess;
  let url = '';

  beforeAll(async () => {
    const port = await freePort();
    coordinator = startDtf('coordinator', ['coordinator', '--listen', `127.0.0.1:${port}`, '--data-dir', dir]);
    await coordinator.waitFor(/coordinator listening/);
    url = `http://127.0.0.1:${port}`;
  });

  afterAll(async () => {
    await coordinator.stop();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  const curl = (...args: string[]) =>
    new Promise<string>((resolve, reject) => {
      const child = execFile(buf, ['curl', '--protocol', 'grpc', '--http2-prior-knowledge', ...args], { cwd: root, encoding: 'utf8', timeout: 20_000 }, (err, stdout, stderr) =>
        err ? reject(new Error(`buf curl ${args.join(' ')}: ${err.message}\n${stderr}`)) : resolve(stdout),
      );
      // buf curl waits on an open stdin; give it none.
      child.stdin?.end();
    });

  it('lists its methods through server reflection', async () => {
    const methods = (await curl('--list-methods', url)).split('\n');
    expect(methods).toEqual(expect.arrayContaining([
      'dtf.scheduler.v1.SchedulerService/SubmitJob',
      'dtf.worker.v1.WorkerService/Connect',
      'dtf.registry.v1.RegistryService/ListWorkers',
      'dtf.result.v1.ResultService/TailEvents',
    ]));
  });

  it('answers a call described only by reflection', async () => {
    const out = JSON.parse(await curl('-d', '{}', `${url}/dtf.scheduler.v1.SchedulerService/GetStatus`));
    expect(out).toMatchObject({ role: 'leader', version: '0.1.0' });
  });

  it('serves grpc.health.v1 for the server and each service', async () => {
    const schema = path.join(path.dirname(require.resolve('grpc-health-check')), '../../proto/health/v1/health.proto');
    const check = async (service: string) => JSON.parse(await curl('--schema', schema, '-d', JSON.stringify({ service }), `${url}/grpc.health.v1.Health/Check`));
    expect(await check('')).toEqual({ status: 'SERVING' });
    expect(await check('dtf.scheduler.v1.SchedulerService')).toEqual({ status: 'SERVING' });
  });
});
