/** One SecretProviderClass `objects` value the worker tests share: JMESPath, SSM, modes. */
export const OBJECTS = `- objectName: shop/db
  objectType: secretsmanager
  jmesPath:
    - path: user
      objectAlias: db-user
    - path: pass
      objectAlias: db-pass
      filePermission: "0600"
- objectName: /shop/url
  objectType: ssmparameter
  objectAlias: url
- objectName: shop/cert
  objectType: secretsmanager
  filePermission: "0400"
`;
