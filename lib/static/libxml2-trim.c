/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Linked, before libxml2.a, into the programs that carry libxml2 inside
 * them (the hook's engine, the wrapper's checker, the CLI; see the
 * Makefile's XML_STATIC): the parts of libxml2 they never use are replaced
 * here, so that the linker leaves them out.
 *
 * - Fetching documents over HTTP and FTP (nanohttp.o, nanoftp.o): every
 *   parse here is XML_PARSE_NONET with no external entities, and now there
 *   is no network code behind it at all (no getaddrinfo, no socket).  An
 *   http:// or ftp:// URL cannot be opened.
 * - The ICU converters (encoding.c, when libxml2 was built with ICU): ICU
 *   and the C++ runtime it needs cost more to load than everything the
 *   hook does with a device.  Libvirt writes domain XML in UTF-8, our
 *   profiles are UTF-8, and libxml2's own UTF-8, UTF-16, ISO-8859-x and
 *   ASCII handlers stay; a document in another encoding is refused as
 *   unsupported instead of converted.
 *
 * Each replacement has the signature of libxml2's or ICU's own header, and
 * fails the way the real one fails when it cannot help.
 */
#include <libxml/xmlversion.h>

#include <stddef.h>

#ifdef LIBXML_HTTP_ENABLED
#include <libxml/nanohttp.h>

void *xmlNanoHTTPOpen(const char *URL, char **contentType)
{
	(void)URL;
	if (contentType)
		*contentType = NULL;
	return NULL;
}

void *xmlNanoHTTPMethod(const char *URL, const char *method, const char *input, char **contentType,
			const char *headers, int ilen)
{
	(void)URL, (void)method, (void)input, (void)headers, (void)ilen;
	if (contentType)
		*contentType = NULL;
	return NULL;
}

int xmlNanoHTTPRead(void *ctx, void *dest, int len)
{
	(void)ctx, (void)dest, (void)len;
	return -1;
}

void xmlNanoHTTPClose(void *ctx)
{
	(void)ctx;
}

int xmlNanoHTTPReturnCode(void *ctx)
{
	(void)ctx;
	return -1;
}

const char *xmlNanoHTTPRedir(void *ctx)
{
	(void)ctx;
	return NULL;
}

const char *xmlNanoHTTPEncoding(void *ctx)
{
	(void)ctx;
	return NULL;
}

const char *xmlNanoHTTPMimeType(void *ctx)
{
	(void)ctx;
	return NULL;
}
#endif

#ifdef LIBXML_FTP_ENABLED
#include <libxml/nanoftp.h>

void *xmlNanoFTPOpen(const char *URL)
{
	(void)URL;
	return NULL;
}

int xmlNanoFTPRead(void *ctx, void *dest, int len)
{
	(void)ctx, (void)dest, (void)len;
	return -1;
}

int xmlNanoFTPClose(void *ctx)
{
	(void)ctx;
	return -1;
}
#endif

#if defined(LIBXML_ICU_ENABLED) && __has_include(<unicode/ucnv.h>)
#include <unicode/ucnv.h>
#include <unicode/ucnv_err.h>

UConverter *ucnv_open(const char *converterName, UErrorCode *err)
{
	(void)converterName;
	if (err)
		*err = U_UNSUPPORTED_ERROR;
	return NULL;
}

/* Never reached: nothing is opened.  Each fails like ICU on a bad
 * argument. */
void ucnv_close(UConverter *converter)
{
	(void)converter;
}

void ucnv_convertEx(UConverter *targetCnv, UConverter *sourceCnv, char **target,
		    const char *targetLimit, const char **source, const char *sourceLimit,
		    UChar *pivotStart, UChar **pivotSource, UChar **pivotTarget,
		    const UChar *pivotLimit, UBool reset, UBool flush, UErrorCode *pErrorCode)
{
	(void)targetCnv, (void)sourceCnv, (void)target, (void)targetLimit;
	(void)source, (void)sourceLimit, (void)pivotStart, (void)pivotSource;
	(void)pivotTarget, (void)pivotLimit, (void)reset, (void)flush;
	if (pErrorCode)
		*pErrorCode = U_ILLEGAL_ARGUMENT_ERROR;
}

void ucnv_setToUCallBack(UConverter *converter, UConverterToUCallback newAction,
			 const void *newContext, UConverterToUCallback *oldAction,
			 const void **oldContext, UErrorCode *err)
{
	(void)converter, (void)newAction, (void)newContext, (void)oldAction;
	(void)oldContext;
	if (err)
		*err = U_ILLEGAL_ARGUMENT_ERROR;
}

void ucnv_setFromUCallBack(UConverter *converter, UConverterFromUCallback newAction,
			   const void *newContext, UConverterFromUCallback *oldAction,
			   const void **oldContext, UErrorCode *err)
{
	(void)converter, (void)newAction, (void)newContext, (void)oldAction;
	(void)oldContext;
	if (err)
		*err = U_ILLEGAL_ARGUMENT_ERROR;
}

void UCNV_TO_U_CALLBACK_STOP(const void *context, UConverterToUnicodeArgs *toUArgs,
			     const char *codeUnits, int32_t length, UConverterCallbackReason reason,
			     UErrorCode *err)
{
	(void)context, (void)toUArgs, (void)codeUnits, (void)length;
	(void)reason, (void)err;
}

void UCNV_FROM_U_CALLBACK_STOP(const void *context, UConverterFromUnicodeArgs *fromUArgs,
			       const UChar *codeUnits, int32_t length, UChar32 codePoint,
			       UConverterCallbackReason reason, UErrorCode *err)
{
	(void)context, (void)fromUArgs, (void)codeUnits, (void)length;
	(void)codePoint, (void)reason, (void)err;
}
#endif
