// TLS material generated with the system `openssl` at first start (kept in <stateDir>/pki), and the engine's
// PKI resource servlet: GET /ovirt-engine/services/pki-resource?resource=ca-certificate&format=X509-PEM-CA
import * as fs from "node:fs";
import * as path from "node:path";
import { execFileSync } from "node:child_process";

export interface Pki {
  caFile: string;
  caPem: string;
  certPem: string;
  keyPem: string;
}

export function ensurePki(stateDir: string, engineName: string): Pki {
  const dir = path.join(stateDir, "pki");
  const caKey = path.join(dir, "ca.key");
  const caFile = path.join(dir, "ca.pem");
  const key = path.join(dir, "engine.key");
  const cert = path.join(dir, "engine.cer");
  if (!fs.existsSync(caFile) || !fs.existsSync(cert) || !fs.existsSync(key)) {
    fs.mkdirSync(dir, { recursive: true, mode: 0o700 });
    const run = (args: string[]) => execFileSync("openssl", args, { stdio: ["ignore", "ignore", "pipe"] });
    run(["req", "-x509", "-newkey", "rsa:2048", "-nodes", "-sha256", "-days", "3650", "-keyout", caKey, "-out", caFile,
      "-subj", `/C=US/O=simulator/CN=${engineName}-ca.simulator.local`,
      "-addext", "basicConstraints=critical,CA:TRUE", "-addext", "keyUsage=critical,keyCertSign,cRLSign"]);
    const csr = path.join(dir, "engine.csr");
    run(["req", "-newkey", "rsa:2048", "-nodes", "-keyout", key, "-out", csr, "-subj", `/C=US/O=simulator/CN=localhost`]);
    const ext = path.join(dir, "engine.ext");
    fs.writeFileSync(ext, "subjectAltName=IP:127.0.0.1,DNS:localhost,IP:::1\nbasicConstraints=CA:FALSE\nkeyUsage=digitalSignature,keyEncipherment\nextendedKeyUsage=serverAuth\n");
    run(["x509", "-req", "-in", csr, "-CA", caFile, "-CAkey", caKey, "-CAcreateserial", "-out", cert, "-days", "3650", "-sha256", "-extfile", ext]);
    fs.chmodSync(key, 0o600);
    fs.chmodSync(caKey, 0o600);
  }
  return { caFile, caPem: fs.readFileSync(caFile, "utf8"), certPem: fs.readFileSync(cert, "utf8"), keyPem: fs.readFileSync(key, "utf8") };
}

/** The answer of the pki-resource servlet, or undefined for an unknown resource/format (404). */
export function pkiResource(pki: Pki | undefined, query: URLSearchParams): { type: string; body: string } | undefined {
  if (!pki) return undefined;
  const resource = query.get("resource");
  const format = query.get("format") ?? "X509-PEM";
  if (resource === "ca-certificate" && (format === "X509-PEM-CA" || format === "X509-PEM")) {
    return { type: format === "X509-PEM-CA" ? "application/x-x509-ca-cert" : "application/x-pem-file", body: pki.caPem };
  }
  if (resource === "engine-certificate" && format.startsWith("X509-PEM")) return { type: "application/x-pem-file", body: pki.certPem };
  return undefined;
}
