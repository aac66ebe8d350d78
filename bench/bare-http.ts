import { createServer } from 'node:http';

// The HTTP ceiling of Node.js on this machine: `node bench/bare-http.ts PORT` answers every request,
// once its body is read, with a fixed 500-byte body (about an OCSP response's size). No framework.
const body = Buffer.alloc(500, 0x30);
const headers = { 'content-type': 'application/ocsp-response', 'content-length': String(body.length) };
const port = Number(process.argv[2]);

createServer((req, res) => {
  req.resume();
  req.on('end', () => {
    res.writeHead(200, headers);
    res.end(body);
  });
}).listen(port, '127.0.0.1');
