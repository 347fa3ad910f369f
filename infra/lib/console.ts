// The admin console in AWS: its static files in a private S3 bucket served by
// CloudFront through origin access control (the bucket is never public),
// with security headers and a content security policy, and a config.json
// written at deploy time with the API's URL and the OIDC settings.
import * as crypto from 'crypto';
import * as fs from 'fs';
import * as path from 'path';
import { CfnOutput, Duration, RemovalPolicy, Stack } from 'aws-cdk-lib';
import * as cloudfront from 'aws-cdk-lib/aws-cloudfront';
import * as origins from 'aws-cdk-lib/aws-cloudfront-origins';
import * as s3 from 'aws-cdk-lib/aws-s3';
import * as s3deploy from 'aws-cdk-lib/aws-s3-deployment';
import { Construct } from 'constructs';

/** How the console signs admins in: OIDC authorization code + PKCE (a public client). */
export interface ConsoleAuth {
  authorizeUrl: string;
  tokenUrl: string;
  clientId: string;
  scope: string;
}

/**
 * The console's sign-in from the stage settings: a Cognito hosted-UI domain
 * (`consoleAuthDomain`, the default) or any OIDC provider's two endpoints.
 */
export function consoleAuth(settings: {
  consoleAuthDomain?: string;
  consoleAuthorizeUrl?: string;
  consoleTokenUrl?: string;
  consoleClientId?: string;
  consoleScope?: string;
  jwtAudience: string;
}, stage: string): ConsoleAuth {
  const domain = settings.consoleAuthDomain?.replace(/\/+$/, '');
  const authorizeUrl = settings.consoleAuthorizeUrl ?? (domain && `${domain}/oauth2/authorize`);
  const tokenUrl = settings.consoleTokenUrl ?? (domain && `${domain}/oauth2/token`);
  if (!authorizeUrl || !tokenUrl) {
    throw new Error(`stage "${stage}" lacks consoleAuthDomain (a Cognito hosted-UI domain) or consoleAuthorizeUrl and consoleTokenUrl`);
  }
  for (const url of [authorizeUrl, tokenUrl]) {
    if (!url.startsWith('https://')) throw new Error(`stage "${stage}": console sign-in URLs must be https, not ${url}`);
  }
  // The ID token's audience is the client id, which the admin API checks.
  return { authorizeUrl, tokenUrl, clientId: settings.consoleClientId ?? settings.jwtAudience, scope: settings.consoleScope ?? 'openid email profile' };
}

/** console/, with the libraries `make console` copies into console/vendor. */
export function consoleDirFor(dir: string): string {
  if (!fs.existsSync(path.join(dir, 'vendor', 'preact.module.js'))) {
    throw new Error(`no console libraries in ${path.join(dir, 'vendor')}: run \`make console\` first`);
  }
  return dir;
}

/** The CSP source for index.html's inline import map (its SHA-256). */
function importMapHash(dir: string): string {
  const html = fs.readFileSync(path.join(dir, 'index.html'), 'utf8');
  const match = html.match(/<script type="importmap">([\s\S]*?)<\/script>/);
  if (!match) throw new Error('console/index.html has no import map');
  return `'sha256-${crypto.createHash('sha256').update(match[1], 'utf8').digest('base64')}'`;
}

export interface AdminConsoleProps {
  consoleDir: string;
  removalPolicy: RemovalPolicy;
  auth: ConsoleAuth;
}

export class AdminConsole extends Construct {
  readonly bucket: s3.Bucket;
  readonly distribution: cloudfront.Distribution;
  /** https://<distribution domain>: the origin the API's CORS allows. */
  readonly origin: string;
  private readonly props: AdminConsoleProps;

  constructor(scope: Construct, id: string, props: AdminConsoleProps) {
    super(scope, id);
    this.props = props;
    this.bucket = new s3.Bucket(this, 'Files', {
      blockPublicAccess: s3.BlockPublicAccess.BLOCK_ALL,
      encryption: s3.BucketEncryption.S3_MANAGED,
      enforceSSL: true,
      // The files are rebuilt from the repository on every deploy.
      removalPolicy: props.removalPolicy,
      autoDeleteObjects: props.removalPolicy === RemovalPolicy.DESTROY,
    });
    const tokenOrigin = new URL(props.auth.tokenUrl).origin;
    const headers = new cloudfront.ResponseHeadersPolicy(this, 'Headers', {
      securityHeadersBehavior: {
        contentSecurityPolicy: {
          // Any API Gateway API of the region: naming this stage's would be a
          // cycle (the API's CORS names the distribution, which names this
          // policy). No inline styles: Preact sets the bars' widths through
          // the CSSOM, which a CSP does not govern.
          contentSecurityPolicy: [
            "default-src 'self'",
            `script-src 'self' ${importMapHash(props.consoleDir)}`,
            "style-src 'self'",
            `connect-src 'self' https://*.execute-api.${Stack.of(this).region}.amazonaws.com ${tokenOrigin}`,
            "img-src 'self' data:",
            "frame-ancestors 'none'",
            "base-uri 'none'",
            "form-action 'self'",
          ].join('; '),
          override: true,
        },
        contentTypeOptions: { override: true },
        frameOptions: { frameOption: cloudfront.HeadersFrameOption.DENY, override: true },
        referrerPolicy: { referrerPolicy: cloudfront.HeadersReferrerPolicy.NO_REFERRER, override: true },
        strictTransportSecurity: { accessControlMaxAge: Duration.days(365), includeSubdomains: true, override: true },
      },
    });
    const origin = origins.S3BucketOrigin.withOriginAccessControl(this.bucket);
    this.distribution = new cloudfront.Distribution(this, 'Distribution', {
      comment: 'Quota admin console',
      defaultRootObject: 'index.html',
      minimumProtocolVersion: cloudfront.SecurityPolicyProtocol.TLS_V1_2_2021,
      defaultBehavior: {
        origin,
        viewerProtocolPolicy: cloudfront.ViewerProtocolPolicy.REDIRECT_TO_HTTPS,
        cachePolicy: cloudfront.CachePolicy.CACHING_OPTIMIZED,
        responseHeadersPolicy: headers,
      },
      additionalBehaviors: {
        // Written at deploy time: never served stale.
        '/config.json': {
          origin,
          viewerProtocolPolicy: cloudfront.ViewerProtocolPolicy.REDIRECT_TO_HTTPS,
          cachePolicy: cloudfront.CachePolicy.CACHING_DISABLED,
          responseHeadersPolicy: headers,
        },
      },
    });
    this.origin = `https://${this.distribution.distributionDomainName}`;
  }

  /** Uploads the files and a config.json naming the API, then invalidates the cache. */
  deploy(apiUrl: string): void {
    new s3deploy.BucketDeployment(this, 'Deploy', {
      destinationBucket: this.bucket,
      sources: [
        s3deploy.Source.asset(this.props.consoleDir, {
          // Only what the page loads: not the npm files, the tests or the local config.
          exclude: ['node_modules', 'package.json', 'package-lock.json', 'config.json', 'vendor/.stamp', 'test'],
        }),
        s3deploy.Source.jsonData('config.json', { apiUrl, auth: { mode: 'oidc', ...this.props.auth } }),
      ],
      distribution: this.distribution,
      distributionPaths: ['/*'],
      memoryLimit: 256,
    });
    new CfnOutput(this, 'Url', {
      value: `${this.origin}/`,
      description: 'The admin console (register it as a callback and sign-out URL of the console app client)',
    });
  }
}
