-- Code lists for member record fields (民族, 学历, 学位, 工作岗位类别).
--
-- These are data, not an enum type or a CHECK constraint: an institution may
-- rename an entry, add one its reporting needs, or reorder a drop-down, and
-- that must be an UPDATE rather than a schema migration. Member rows should
-- store the code (stable across renames) with a foreign key on (list, code).
-- Codes are text to keep leading zeros, as the national standards write them.
CREATE TABLE code_lists (
    list text NOT NULL,
    code text NOT NULL,
    name text NOT NULL,
    sort_order int NOT NULL,
    PRIMARY KEY (list, code),
    UNIQUE (list, name),
    CHECK (list <> '' AND code <> '' AND name <> '')
);

COMMENT ON TABLE code_lists IS
    'Code lists (ethnicity, education, degree, job_category); data that institutions may adjust, not fixed enums';

-- 民族: GB/T 3304-1991 codes and order. Current names are used for the two
-- groups renamed before the standard (崩龙族 -> 德昂族 1985, 毛难族 -> 毛南族
-- 1986). 97 and 98 are the standard's own codes for the remaining cases.
INSERT INTO code_lists (list, code, name, sort_order) VALUES
    ('ethnicity', '01', '汉族', 1),
    ('ethnicity', '02', '蒙古族', 2),
    ('ethnicity', '03', '回族', 3),
    ('ethnicity', '04', '藏族', 4),
    ('ethnicity', '05', '维吾尔族', 5),
    ('ethnicity', '06', '苗族', 6),
    ('ethnicity', '07', '彝族', 7),
    ('ethnicity', '08', '壮族', 8),
    ('ethnicity', '09', '布依族', 9),
    ('ethnicity', '10', '朝鲜族', 10),
    ('ethnicity', '11', '满族', 11),
    ('ethnicity', '12', '侗族', 12),
    ('ethnicity', '13', '瑶族', 13),
    ('ethnicity', '14', '白族', 14),
    ('ethnicity', '15', '土家族', 15),
    ('ethnicity', '16', '哈尼族', 16),
    ('ethnicity', '17', '哈萨克族', 17),
    ('ethnicity', '18', '傣族', 18),
    ('ethnicity', '19', '黎族', 19),
    ('ethnicity', '20', '傈僳族', 20),
    ('ethnicity', '21', '佤族', 21),
    ('ethnicity', '22', '畲族', 22),
    ('ethnicity', '23', '高山族', 23),
    ('ethnicity', '24', '拉祜族', 24),
    ('ethnicity', '25', '水族', 25),
    ('ethnicity', '26', '东乡族', 26),
    ('ethnicity', '27', '纳西族', 27),
    ('ethnicity', '28', '景颇族', 28),
    ('ethnicity', '29', '柯尔克孜族', 29),
    ('ethnicity', '30', '土族', 30),
    ('ethnicity', '31', '达斡尔族', 31),
    ('ethnicity', '32', '仫佬族', 32),
    ('ethnicity', '33', '羌族', 33),
    ('ethnicity', '34', '布朗族', 34),
    ('ethnicity', '35', '撒拉族', 35),
    ('ethnicity', '36', '毛南族', 36),
    ('ethnicity', '37', '仡佬族', 37),
    ('ethnicity', '38', '锡伯族', 38),
    ('ethnicity', '39', '阿昌族', 39),
    ('ethnicity', '40', '普米族', 40),
    ('ethnicity', '41', '塔吉克族', 41),
    ('ethnicity', '42', '怒族', 42),
    ('ethnicity', '43', '乌孜别克族', 43),
    ('ethnicity', '44', '俄罗斯族', 44),
    ('ethnicity', '45', '鄂温克族', 45),
    ('ethnicity', '46', '德昂族', 46),
    ('ethnicity', '47', '保安族', 47),
    ('ethnicity', '48', '裕固族', 48),
    ('ethnicity', '49', '京族', 49),
    ('ethnicity', '50', '塔塔尔族', 50),
    ('ethnicity', '51', '独龙族', 51),
    ('ethnicity', '52', '鄂伦春族', 52),
    ('ethnicity', '53', '赫哲族', 53),
    ('ethnicity', '54', '门巴族', 54),
    ('ethnicity', '55', '珞巴族', 55),
    ('ethnicity', '56', '基诺族', 56),
    ('ethnicity', '97', '其他', 97),
    ('ethnicity', '98', '外国血统中国籍人士', 98);

-- 学历: the six levels the member information system uses, highest first.
-- Codes are this platform's own, not GB/T 4658, whose levels do not map one to
-- one (it has no single "初中及以下").
INSERT INTO code_lists (list, code, name, sort_order) VALUES
    ('education', '01', '研究生', 1),
    ('education', '02', '大学本科', 2),
    ('education', '03', '大学专科', 3),
    ('education', '04', '中专', 4),
    ('education', '05', '高中', 5),
    ('education', '06', '初中及以下', 6);

-- 学位: highest degree held; 无 is an explicit answer, distinct from "not
-- yet recorded" (NULL on the member row).
INSERT INTO code_lists (list, code, name, sort_order) VALUES
    ('degree', '01', '博士', 1),
    ('degree', '02', '硕士', 2),
    ('degree', '03', '学士', 3),
    ('degree', '04', '无', 4);

-- 工作岗位类别: in the order the Party's internal statistics list them
-- (production, professional, management, government, then those outside work).
INSERT INTO code_lists (list, code, name, sort_order) VALUES
    ('job_category', '01', '工人', 1),
    ('job_category', '02', '农牧渔民', 2),
    ('job_category', '03', '专业技术人员', 3),
    ('job_category', '04', '企事业单位管理人员', 4),
    ('job_category', '05', '党政机关工作人员', 5),
    ('job_category', '06', '学生', 6),
    ('job_category', '07', '军人武警', 7),
    ('job_category', '08', '离退休人员', 8),
    ('job_category', '09', '其他', 9);
