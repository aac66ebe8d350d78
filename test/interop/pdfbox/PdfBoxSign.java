import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.File;
import java.io.FileInputStream;
import java.io.FileOutputStream;
import java.io.FileReader;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.HttpURLConnection;
import java.net.URL;
import java.nio.charset.StandardCharsets;
import java.security.KeyStore;
import java.security.MessageDigest;
import java.security.PrivateKey;
import java.security.cert.Certificate;
import java.security.cert.X509Certificate;
import java.util.ArrayList;
import java.util.Calendar;
import java.util.Collections;
import java.util.Enumeration;
import java.util.HashMap;
import java.util.Hashtable;
import java.util.List;
import java.util.Locale;
import java.util.Map;

import org.apache.pdfbox.cos.COSDictionary;
import org.apache.pdfbox.cos.COSName;
import org.apache.pdfbox.pdmodel.PDDocument;
import org.apache.pdfbox.pdmodel.PDPage;
import org.apache.pdfbox.pdmodel.PDResources;
import org.apache.pdfbox.pdmodel.common.PDRectangle;
import org.apache.pdfbox.pdmodel.interactive.annotation.PDAnnotationWidget;
import org.apache.pdfbox.pdmodel.interactive.annotation.PDAppearanceDictionary;
import org.apache.pdfbox.pdmodel.interactive.annotation.PDAppearanceStream;
import org.apache.pdfbox.pdmodel.interactive.digitalsignature.PDSignature;
import org.apache.pdfbox.pdmodel.interactive.digitalsignature.SignatureInterface;
import org.apache.pdfbox.pdmodel.interactive.digitalsignature.SignatureOptions;
import org.apache.pdfbox.pdmodel.interactive.form.PDAcroForm;
import org.apache.pdfbox.pdmodel.interactive.form.PDSignatureField;
import org.bouncycastle.asn1.ASN1EncodableVector;
import org.bouncycastle.asn1.ASN1ObjectIdentifier;
import org.bouncycastle.asn1.DERSet;
import org.bouncycastle.asn1.cms.Attribute;
import org.bouncycastle.asn1.cms.AttributeTable;
import org.bouncycastle.asn1.cms.CMSAttributes;
import org.bouncycastle.asn1.ess.ESSCertIDv2;
import org.bouncycastle.asn1.ess.SigningCertificateV2;
import org.bouncycastle.asn1.nist.NISTObjectIdentifiers;
import org.bouncycastle.asn1.pkcs.PKCSObjectIdentifiers;
import org.bouncycastle.asn1.pkcs.PrivateKeyInfo;
import org.bouncycastle.asn1.x509.AlgorithmIdentifier;
import org.bouncycastle.asn1.x509.IssuerSerial;
import org.bouncycastle.cert.X509CertificateHolder;
import org.bouncycastle.cert.jcajce.JcaCertStore;
import org.bouncycastle.cert.jcajce.JcaX509CertificateConverter;
import org.bouncycastle.cms.CMSAttributeTableGenerator;
import org.bouncycastle.cms.CMSProcessableByteArray;
import org.bouncycastle.cms.CMSSignedData;
import org.bouncycastle.cms.CMSSignedDataGenerator;
import org.bouncycastle.cms.DefaultSignedAttributeTableGenerator;
import org.bouncycastle.cms.SignerInformation;
import org.bouncycastle.cms.SignerInformationStore;
import org.bouncycastle.cms.jcajce.JcaSignerInfoGeneratorBuilder;
import org.bouncycastle.openssl.PEMParser;
import org.bouncycastle.openssl.jcajce.JcaPEMKeyConverter;
import org.bouncycastle.operator.ContentSigner;
import org.bouncycastle.operator.jcajce.JcaContentSignerBuilder;
import org.bouncycastle.operator.jcajce.JcaDigestCalculatorProviderBuilder;
import org.bouncycastle.tsp.TimeStampRequest;
import org.bouncycastle.tsp.TimeStampRequestGenerator;
import org.bouncycastle.tsp.TimeStampResponse;

/**
 * Kyso's interop signer: signs a PDF with Apache PDFBox 2 (incremental save) and a BouncyCastle CMS,
 * so that the tests can check Kyso's verifier against PDFs made by another signer.
 *
 * <pre>
 * java PdfBoxSign --in IN.pdf --out OUT.pdf (--p12 FILE --pass PW | --key KEY.pem --cert CERT.pem)
 *   [--chain CHAIN.pem] [--sub-filter cades|pkcs7] [--reason TEXT] [--name TEXT]
 *   [--visible PAGE,X,Y,W,H] [--tsa URL]
 * </pre>
 *
 * PAGE is 1-based; the rectangle is in PDF user space from the page's lower-left corner. With --tsa, the
 * signature gets an RFC 3161 signature time-stamp (PAdES B-T) as an unsigned attribute.
 */
public final class PdfBoxSign {
  private PdfBoxSign() {}

  public static void main(String[] argv) throws Exception {
    Map<String, String> a = parseArgs(argv);
    Signer signer = new Signer(a);
    PDSignature sig = new PDSignature();
    sig.setFilter(PDSignature.FILTER_ADOBE_PPKLITE);
    sig.setSubFilter(
        signer.cades ? PDSignature.SUBFILTER_ETSI_CADES_DETACHED : PDSignature.SUBFILTER_ADBE_PKCS7_DETACHED);
    sig.setName(a.getOrDefault("--name", "PDFBox"));
    sig.setReason(a.getOrDefault("--reason", "PDFBox interop"));
    sig.setSignDate(Calendar.getInstance());

    try (PDDocument doc = PDDocument.load(new File(required(a, "--in")));
        SignatureOptions options = new SignatureOptions();
        OutputStream out = new FileOutputStream(required(a, "--out"))) {
      options.setPreferredSignatureSize(32768);
      if (a.containsKey("--visible")) {
        String[] v = a.get("--visible").split(",");
        int page = Integer.parseInt(v[0]) - 1;
        PDRectangle rect = new PDRectangle(Float.parseFloat(v[1]), Float.parseFloat(v[2]),
            Float.parseFloat(v[3]), Float.parseFloat(v[4]));
        options.setVisualSignature(new ByteArrayInputStream(template(doc.getPage(page), rect, sig.getName())));
        options.setPage(page);
      }
      doc.addSignature(sig, signer, options);
      doc.saveIncremental(out);
    }
  }

  /** A one-page document holding only the signature field and its appearance, as PDFBox 2 takes it. */
  private static byte[] template(PDPage source, PDRectangle rect, String name) throws IOException {
    try (PDDocument t = new PDDocument()) {
      PDPage page = new PDPage(source.getMediaBox());
      t.addPage(page);
      PDAcroForm form = new PDAcroForm(t);
      t.getDocumentCatalog().setAcroForm(form);
      PDSignatureField field = new PDSignatureField(form);
      PDAnnotationWidget widget = field.getWidgets().get(0);
      widget.setRectangle(rect);
      widget.setPage(page);
      page.getAnnotations().add(widget);
      form.getFields().add(field);

      // The appearance is written as raw operators with a plain Helvetica dictionary: PDFBox's font
      // classes would scan the system fonts and write a cache under $HOME on every first run.
      PDAppearanceStream stream = new PDAppearanceStream(t);
      stream.setBBox(new PDRectangle(rect.getWidth(), rect.getHeight()));
      COSDictionary helvetica = new COSDictionary();
      helvetica.setItem(COSName.TYPE, COSName.FONT);
      helvetica.setItem(COSName.SUBTYPE, COSName.TYPE1);
      helvetica.setName(COSName.BASE_FONT, "Helvetica");
      COSDictionary fonts = new COSDictionary();
      fonts.setItem(COSName.getPDFName("F1"), helvetica);
      PDResources resources = new PDResources();
      resources.getCOSObject().setItem(COSName.FONT, fonts);
      stream.setResources(resources);
      String ops = String.format(Locale.ROOT,
          "q 0 0 0.8 RG 1.5 w 1 1 %.2f %.2f re S 0 0 0.8 rg BT /F1 10 Tf 6 %.2f Td (Signed with PDFBox: %s) Tj ET Q%n",
          rect.getWidth() - 2, rect.getHeight() - 2, rect.getHeight() / 2 - 4, name.replaceAll("[()\\\\]", ""));
      try (OutputStream os = stream.getStream().createOutputStream()) {
        os.write(ops.getBytes(StandardCharsets.ISO_8859_1));
      }
      PDAppearanceDictionary appearance = new PDAppearanceDictionary();
      appearance.setNormalAppearance(stream);
      widget.setAppearance(appearance);

      ByteArrayOutputStream bytes = new ByteArrayOutputStream();
      t.save(bytes);
      return bytes.toByteArray();
    }
  }

  /** Makes the detached CMS over the bytes PDFBox hands over (the ByteRange content). */
  private static final class Signer implements SignatureInterface {
    final boolean cades;
    final PrivateKey key;
    final X509Certificate cert;
    final List<X509Certificate> chain = new ArrayList<>();
    final String tsa;

    Signer(Map<String, String> a) throws Exception {
      cades = !"pkcs7".equals(a.getOrDefault("--sub-filter", "cades"));
      tsa = a.get("--tsa");
      if (a.containsKey("--p12")) {
        char[] pass = a.getOrDefault("--pass", "").toCharArray();
        KeyStore ks = KeyStore.getInstance("PKCS12");
        try (InputStream in = new FileInputStream(a.get("--p12"))) {
          ks.load(in, pass);
        }
        String alias = null;
        for (Enumeration<String> e = ks.aliases(); e.hasMoreElements();) {
          String x = e.nextElement();
          if (ks.isKeyEntry(x)) alias = x;
        }
        if (alias == null) throw new IllegalArgumentException("no key in " + a.get("--p12"));
        key = (PrivateKey) ks.getKey(alias, pass);
        Certificate[] certs = ks.getCertificateChain(alias);
        cert = (X509Certificate) certs[0];
        for (int i = 1; i < certs.length; i++) chain.add((X509Certificate) certs[i]);
      } else {
        try (PEMParser p = new PEMParser(new FileReader(required(a, "--key")))) {
          key = new JcaPEMKeyConverter().getPrivateKey(PrivateKeyInfo.getInstance(p.readObject()));
        }
        List<X509Certificate> leaf = readCerts(required(a, "--cert"));
        cert = leaf.get(0);
      }
      if (a.containsKey("--chain")) chain.addAll(readCerts(a.get("--chain")));
    }

    @Override
    public byte[] sign(InputStream content) throws IOException {
      try {
        byte[] data = content.readAllBytes();
        String alg = key.getAlgorithm().equals("RSA") ? "SHA256withRSA" : "SHA256withECDSA";
        ContentSigner cs = new JcaContentSignerBuilder(alg).build(key);
        JcaSignerInfoGeneratorBuilder info =
            new JcaSignerInfoGeneratorBuilder(new JcaDigestCalculatorProviderBuilder().build());
        if (cades) info.setSignedAttributeGenerator(cadesAttributes(cert));
        CMSSignedDataGenerator gen = new CMSSignedDataGenerator();
        gen.addSignerInfoGenerator(info.build(cs, cert));
        List<X509Certificate> all = new ArrayList<>();
        all.add(cert);
        all.addAll(chain);
        gen.addCertificates(new JcaCertStore(all));
        CMSSignedData signed = gen.generate(new CMSProcessableByteArray(data), false);
        if (tsa != null) signed = withTimeStamp(signed, tsa);
        return signed.getEncoded();
      } catch (Exception e) {
        throw new IOException(e);
      }
    }
  }

  /**
   * PAdES signed attributes: content type, message digest and signingCertificateV2, and no signing time
   * (BouncyCastle adds one by default; PAdES takes the time from the signature dictionary's /M).
   */
  private static CMSAttributeTableGenerator cadesAttributes(X509Certificate cert) throws Exception {
    byte[] certHash = MessageDigest.getInstance("SHA-256").digest(cert.getEncoded());
    X509CertificateHolder holder = new X509CertificateHolder(cert.getEncoded());
    ESSCertIDv2 id = new ESSCertIDv2(
        new AlgorithmIdentifier(NISTObjectIdentifiers.id_sha256),
        certHash,
        new IssuerSerial(holder.getIssuer(), holder.getSerialNumber()));
    Attribute signingCertificate = new Attribute(PKCSObjectIdentifiers.id_aa_signingCertificateV2,
        new DERSet(new SigningCertificateV2(new ESSCertIDv2[] {id})));
    ASN1EncodableVector v = new ASN1EncodableVector();
    v.add(signingCertificate);
    DefaultSignedAttributeTableGenerator base = new DefaultSignedAttributeTableGenerator(new AttributeTable(v));
    return params -> base.getAttributes(params).remove(CMSAttributes.signingTime);
  }

  /** Adds an RFC 3161 token over the signature value as the signer's unsigned attribute. */
  private static CMSSignedData withTimeStamp(CMSSignedData signed, String url) throws Exception {
    List<SignerInformation> signers = new ArrayList<>();
    for (SignerInformation s : signed.getSignerInfos().getSigners()) {
      byte[] imprint = MessageDigest.getInstance("SHA-256").digest(s.getSignature());
      TimeStampRequestGenerator g = new TimeStampRequestGenerator();
      g.setCertReq(true);
      TimeStampRequest req = g.generate(NISTObjectIdentifiers.id_sha256, imprint);
      TimeStampResponse resp = new TimeStampResponse(post(url, req.getEncoded()));
      resp.validate(req);
      if (resp.getTimeStampToken() == null)
        throw new IOException("the TSA gave no token: " + resp.getStatusString());
      Hashtable<ASN1ObjectIdentifier, Attribute> unsigned = new Hashtable<>();
      ASN1ObjectIdentifier oid = PKCSObjectIdentifiers.id_aa_signatureTimeStampToken;
      unsigned.put(oid, new Attribute(oid, new DERSet(resp.getTimeStampToken().toCMSSignedData().toASN1Structure())));
      signers.add(SignerInformation.replaceUnsignedAttributes(s, new AttributeTable(unsigned)));
    }
    return CMSSignedData.replaceSigners(signed, new SignerInformationStore(signers));
  }

  private static byte[] post(String url, byte[] body) throws IOException {
    HttpURLConnection c = (HttpURLConnection) new URL(url).openConnection();
    c.setRequestMethod("POST");
    c.setDoOutput(true);
    c.setRequestProperty("Content-Type", "application/timestamp-query");
    try (OutputStream o = c.getOutputStream()) {
      o.write(body);
    }
    if (c.getResponseCode() != 200) throw new IOException("TSA " + url + " answered " + c.getResponseCode());
    try (InputStream in = c.getInputStream()) {
      return in.readAllBytes();
    }
  }

  private static List<X509Certificate> readCerts(String file) throws Exception {
    List<X509Certificate> out = new ArrayList<>();
    JcaX509CertificateConverter conv = new JcaX509CertificateConverter();
    try (PEMParser p = new PEMParser(new FileReader(file))) {
      for (Object o = p.readObject(); o != null; o = p.readObject())
        if (o instanceof X509CertificateHolder) out.add(conv.getCertificate((X509CertificateHolder) o));
    }
    if (out.isEmpty()) throw new IllegalArgumentException("no certificate in " + file);
    return out;
  }

  private static Map<String, String> parseArgs(String[] argv) {
    Map<String, String> a = new HashMap<>();
    for (int i = 0; i < argv.length; i++) {
      if (!argv[i].startsWith("--") || i + 1 >= argv.length)
        throw new IllegalArgumentException("expected --option value at " + argv[i]);
      a.put(argv[i], argv[++i]);
    }
    return Collections.unmodifiableMap(a);
  }

  private static String required(Map<String, String> a, String option) {
    String v = a.get(option);
    if (v == null) throw new IllegalArgumentException(option + " is required");
    return v;
  }
}
